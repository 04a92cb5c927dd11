package zq.gptq.pipeline;

import zq.gptq.QuantizedLinear;

/**
 * Hears about a run as it goes: once per quantised Linear and once per finished decoder layer. Both are
 * called on the quantising thread; an exception thrown here aborts the run (and with it the output folder).
 */
public interface ProgressListener {

    /**
     * @param result the Linear's codes, grid and fake-quantised weight (only valid during the call: the
     *               pipeline keeps nothing but the packed tensors)
     */
    default void moduleDone(ModuleReport module, QuantizedLinear result, Progress progress) {}

    default void layerDone(QuantizedLayer layer, Progress progress) {}

    ProgressListener NONE = new ProgressListener() {};

    /**
     * Where a run stands.
     *
     * @param layer          the decoder layer being quantised (0-based)
     * @param layers         decoder layers in the model
     * @param modulesDone    Linears finished so far, the current one included
     * @param modulesTotal   Linears in the model
     * @param elapsedSeconds since the first layer started
     */
    record Progress(int layer, int layers, int modulesDone, int modulesTotal, double elapsedSeconds) {
        /** Remaining time if the remaining Linears take as long on average as the finished ones. */
        public double etaSeconds() {
            return modulesDone == 0 ? Double.NaN : elapsedSeconds / modulesDone * (modulesTotal - modulesDone);
        }
    }
}
