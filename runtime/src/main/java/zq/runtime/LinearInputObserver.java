package zq.runtime;

/**
 * Sees the exact fp32 input of each group of Linears while a layer runs: what GPTQ calibration needs.
 * {@link DecoderLayer} calls it once per group for every chunk of windows it processes, just before the
 * group's Linears are applied.
 */
@FunctionalInterface
public interface LinearInputObserver {

    /**
     * @param input         row-major {@code [Σ windowLengths × group.inFeatures()]}; read it, do not keep or
     *                      change it (copy what you need)
     * @param windowLengths the rows of each window in this chunk, in order
     */
    void observe(InputGroup group, float[] input, int[] windowLengths);

    LinearInputObserver NONE = (group, input, windowLengths) -> { };
}
