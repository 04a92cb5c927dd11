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

    /** Before the first layer of a GPTQ run: the work ahead, for an estimate of the time it takes. */
    default void planned(WorkEstimate work) {}

    ProgressListener NONE = new ProgressListener() {};

    /**
     * Where a run stands.
     *
     * @param layer          the decoder layer being quantised (0-based)
     * @param layers         decoder layers in the model
     * @param modulesDone    Linears finished so far, the current one included
     * @param modulesTotal   Linears in the model
     * @param elapsedSeconds since the first layer started
     * @param layersDone     layers finished so far
     * @param layersSeconds  elapsed time when the last finished layer was done
     */
    record Progress(int layer, int layers, int modulesDone, int modulesTotal, double elapsedSeconds, int layersDone,
                    double layersSeconds) {
        /**
         * Remaining time if the remaining layers take as long on average as the finished ones, less what the current
         * layer has already taken: steady within a layer, unlike an average per Linear (a layer's Linears differ in cost
         * by 30×). NaN until the first layer is done.
         */
        public double etaSeconds() {
            if (layersDone == 0) return Double.NaN;
            double perLayer = layersSeconds / layersDone;
            return Math.max(0, perLayer * (layers - layersDone) - (elapsedSeconds - layersSeconds));
        }
    }
}
