package zq.gptq.pipeline;

import zq.gptq.GptqConfig;
import zq.formats.gptq.ZeroFormat;
import zq.gptq.hessian.HessianBackend;

/**
 * What a layer-by-layer quantisation run does besides the per-Linear GPTQ settings.
 *
 * @param method         GPTQ or round-to-nearest
 * @param gptq           grid, groups, act-order, damping (RTN uses only the grid and the groups)
 * @param trueSequential quantise [q,k,v], [o], [up,gate], [down] one after another, each group's Hessian taken from
 *                       inputs that already went through the quantised earlier groups (AutoGPTQ's true_sequential);
 *                       false takes all four Hessians from one forward of the unquantised layer
 * @param hessian        where Hessians are accumulated
 */
public record PipelineOptions(QuantizeMethod method, GptqConfig gptq, boolean trueSequential, HessianBackend hessian) {

    public PipelineOptions {
        if (method == null || gptq == null || hessian == null) {
            throw new IllegalArgumentException("method, GPTQ settings and Hessian backend are all required");
        }
    }

    /** AutoGPTQ's defaults with zq's choice of desc_act=false (docs/gptq.md, "Settings that load everywhere"): GPTQ, g128, sym, true-sequential. */
    public static PipelineOptions defaults() {
        return new PipelineOptions(QuantizeMethod.GPTQ, GptqConfig.recommended(), true, HessianBackend.AUTO);
    }

    /**
     * The zero-point convention the checkpoint must use: symmetric zeros (always 8) are exact in AutoGPTQ's
     * v1 layout; asymmetric zeros can be 0, which v1 cannot store (docs/gptq.md, "Zero points"), so they need gptq_v2.
     */
    public ZeroFormat zeroFormat() { return gptq.sym() ? ZeroFormat.GPTQ_V1 : ZeroFormat.GPTQ_V2; }
}
