package zq.gptq.pipeline;

import zq.gptq.GptqReport;
import zq.runtime.InputGroup;

/**
 * What quantising one Linear did.
 *
 * @param name          the Linear's state-dict prefix, e.g. {@code model.layers.3.self_attn.q_proj}
 * @param layer         decoder layer index
 * @param group         which input it reads (q/k/v share one Hessian, gate/up share one)
 * @param outFeatures   rows of the weight
 * @param inFeatures    columns of the weight
 * @param gptq          the solver's report (loss, damping); null for round-to-nearest
 * @param hessianTokens calibration tokens in the Hessian (0 for round-to-nearest)
 * @param solveSeconds  wall time of the solve
 */
public record ModuleReport(String name, int layer, InputGroup.Kind group, int outFeatures, int inFeatures,
                           GptqReport gptq, long hessianTokens, double solveSeconds) {

    /** AutoGPTQ's logged loss, or NaN for round-to-nearest (which has no Hessian to weigh errors with). */
    public double loss() { return gptq == null ? Double.NaN : gptq.loss(); }
}
