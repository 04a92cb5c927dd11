package zq.gptq.pipeline;

import java.util.Locale;

/** How each Linear is quantised: GPTQ with calibration data, or round-to-nearest on the same grid without any. */
public enum QuantizeMethod {
    /** GPTQ with Hessians from calibration activations (docs/gptq.md, "The GPTQ solve"). */
    GPTQ,
    /** Round-to-nearest: the baseline, no calibration, no forward passes. */
    RTN;

    public static QuantizeMethod parse(String name) {
        for (QuantizeMethod m : values()) if (m.name().equalsIgnoreCase(name.trim())) return m;
        throw new IllegalArgumentException("unknown quantization method '" + name + "'; expected gptq or rtn");
    }

    /** Lower-case name as given on the command line and written into reports. */
    public String methodName() { return name().toLowerCase(Locale.ROOT); }
}
