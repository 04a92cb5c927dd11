package zq.gptq.pipeline;

import java.util.Locale;

/** The parts of a quantisation run whose time is reported separately. */
public enum Phase {
    /** Decoding a layer's weights from the memory-mapped input to fp32, and the calibration tokens' embeddings. */
    READ,
    /** Decoder-layer forward passes over the calibration windows (without the Hessian updates made during them). */
    FORWARD,
    /** Hessian accumulation from observed Linear inputs, and reading the finished Hessians. */
    HESSIAN,
    /** The GPTQ (or round-to-nearest) solve of each Linear. */
    SOLVE,
    /** Packing codes, zeros and scales into the checkpoint layout. */
    PACK,
    /** Writing tensors (converting and copying the unquantised ones included) and the small files. */
    WRITE;

    /** Lower-case name used in reports. */
    public String key() { return name().toLowerCase(Locale.ROOT); }
}
