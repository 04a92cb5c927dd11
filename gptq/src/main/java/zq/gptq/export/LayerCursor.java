package zq.gptq.export;

import java.util.ArrayList;
import java.util.List;
import zq.gptq.pipeline.ModuleReport;
import zq.gptq.pipeline.QuantizationPipeline;
import zq.gptq.pipeline.QuantizedLayer;

/**
 * Hands the checkpoint writer each layer's packed tensors, quantising a layer the first time one of its tensors
 * is asked for. The writer asks in file order, which is layer order, so exactly one finished layer is held at a time.
 */
final class LayerCursor {
    private final QuantizationPipeline pipeline;
    private final List<ModuleReport> modules = new ArrayList<>();
    private final List<Double> layerSeconds = new ArrayList<>();
    private QuantizedLayer current;
    private long pipelineNanos;

    LayerCursor(QuantizationPipeline pipeline) { this.pipeline = pipeline; }

    QuantizedLayer layer(int index) {
        if (current != null && current.index() == index) return current;
        if (index != pipeline.nextLayer()) {
            throw new IllegalStateException("layer " + index + " was asked for out of order; the next one to quantise is "
                    + pipeline.nextLayer());
        }
        current = null; // let the previous layer go before the next one is built
        long t0 = System.nanoTime();
        current = pipeline.next();
        pipelineNanos += System.nanoTime() - t0;
        modules.addAll(current.modules());
        layerSeconds.add(current.seconds());
        return current;
    }

    /** Time spent quantising, to tell it apart from writing. */
    long pipelineNanos() { return pipelineNanos; }

    List<ModuleReport> modules() { return modules; }

    List<Double> layerSeconds() { return layerSeconds; }

    void checkFinished() {
        if (pipeline.hasNext()) {
            throw new IllegalStateException("the checkpoint was written but layer " + pipeline.nextLayer() + " of "
                    + pipeline.layerCount() + " was never quantised");
        }
    }
}
