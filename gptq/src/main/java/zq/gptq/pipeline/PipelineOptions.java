package zq.gptq.pipeline;

import zq.gptq.GptqConfig;
import zq.formats.gptq.ZeroFormat;
import zq.gptq.hessian.HessianBackend;

/**
 * What a layer-by-layer quantisation run does besides the per-Linear GPTQ settings.
 *
 * @param method           GPTQ or round-to-nearest
 * @param gptq             grid, groups, act-order, damping (RTN uses only the grid and the groups)
 * @param trueSequential   quantise [q,k,v], [o], [up,gate], [down] one after another, each group's Hessian taken from
 *                         inputs that already went through the quantised earlier groups (AutoGPTQ's true_sequential);
 *                         false takes all four Hessians from one forward of the unquantised layer
 * @param hessian          where Hessians are accumulated
 * @param stageBudgetBytes with true-sequential, the inputs of o_proj and of down_proj for all calibration tokens are
 *                         kept between the pass that takes their Hessian and the pass that applies the quantised
 *                         Linear while they fit in this many bytes; a larger input is recomputed instead (the qkv
 *                         product and attention, or the gate/up products), which costs forward work, not memory
 * @param chunkRows        calibration rows per gemm (see {@code DecoderLayer})
 */
public record PipelineOptions(QuantizeMethod method, GptqConfig gptq, boolean trueSequential, HessianBackend hessian,
                              long stageBudgetBytes, int chunkRows) {

    /** 1 GiB: at 7B width, down_proj's input for 16×512 tokens (0.43 GB) and 32×512 (0.86 GB) fits, 128×2048 (13.7 GB) does not. */
    public static final long DEFAULT_STAGE_BUDGET_BYTES = 1L << 30;

    public PipelineOptions {
        if (method == null || gptq == null || hessian == null) {
            throw new IllegalArgumentException("method, GPTQ settings and Hessian backend are all required");
        }
        if (stageBudgetBytes < 0) throw new IllegalArgumentException("the stage memory budget must not be negative, got " + stageBudgetBytes);
        if (chunkRows <= 0) throw new IllegalArgumentException("rows per chunk must be positive, got " + chunkRows);
    }

    /** The default stage budget and chunking. */
    public PipelineOptions(QuantizeMethod method, GptqConfig gptq, boolean trueSequential, HessianBackend hessian) {
        this(method, gptq, trueSequential, hessian, DEFAULT_STAGE_BUDGET_BYTES, zq.runtime.DecoderLayer.DEFAULT_CHUNK_ROWS);
    }

    /** AutoGPTQ's defaults with zq's choice of desc_act=false (docs/gptq.md, "Settings that load everywhere"): GPTQ, g128, sym, true-sequential. */
    public static PipelineOptions defaults() {
        return new PipelineOptions(QuantizeMethod.GPTQ, GptqConfig.recommended(), true, HessianBackend.AUTO);
    }

    public PipelineOptions withStageBudget(long bytes) {
        return new PipelineOptions(method, gptq, trueSequential, hessian, bytes, chunkRows);
    }

    public PipelineOptions withChunkRows(int rows) {
        return new PipelineOptions(method, gptq, trueSequential, hessian, stageBudgetBytes, rows);
    }

    /**
     * The zero-point convention the checkpoint must use: symmetric zeros (always 8) are exact in AutoGPTQ's
     * v1 layout; asymmetric zeros can be 0, which v1 cannot store (docs/gptq.md, "Zero points"), so they need gptq_v2.
     */
    public ZeroFormat zeroFormat() { return gptq.sym() ? ZeroFormat.GPTQ_V1 : ZeroFormat.GPTQ_V2; }
}
