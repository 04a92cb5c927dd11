package zq.gptq.pipeline;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import zq.formats.Checkpoint;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelLayout;
import zq.gptq.GptqConfig;
import zq.gptq.GptqSolver;
import zq.formats.gptq.PackedLinear;
import zq.gptq.QuantizedLinear;
import zq.gptq.RtnQuantizer;
import zq.gptq.hessian.HessianAccumulator;
import zq.gptq.hessian.HessianBackend;
import zq.gptq.hessian.OpenClHessian;
import zq.runtime.Activations;
import zq.runtime.InputGroup;
import zq.runtime.LayerStream;
import zq.runtime.LayerWeights;
import zq.runtime.LayerWeightsLoader;
import zq.runtime.LinearInputObserver;

/**
 * Quantises a dense checkpoint one decoder layer at a time, in order (AutoGPTQ's {@code quantize()},
 * docs/gptq.md, "Layers in order"). {@link #next()} decodes one layer's weights from the memory-mapped input, quantises its
 * Linears and returns them packed; nothing of earlier layers is kept, so memory does not grow with depth.
 *
 * <p>GPTQ: the calibration windows are embedded once; for each layer and each subset of
 * {@link LayerLayout#sequentialGroups()} — [q,k,v] (Zhinao: [qkv]), [o], [up,gate], [down] — the whole layer runs
 * forward over all windows while one {@link HessianAccumulator} collects that subset's inputs; the subset is solved
 * and its weights replaced by their fake-quantised values ({@link QuantizedLinear#dequantized()}, the fp16-scale
 * weights a loader decodes), so later subsets see quantised outputs. Without true-sequential, one forward of the
 * unquantised layer feeds all four accumulators. Finally the fully quantised layer runs once more and its outputs
 * become the next layer's inputs. Linears that read the same input share one Hessian (the solver does not modify it).
 *
 * <p>Round-to-nearest needs no calibration and no forward passes: each Linear is decoded and rounded alone.
 *
 * <p>The pipeline owns the runtime's native memory; close it when done (the checkpoint stays the caller's).
 */
public final class QuantizationPipeline implements AutoCloseable {
    private final Checkpoint model;
    private final PipelineOptions options;
    private final Calibration calibration;
    private final ProgressListener listener;
    private final PhaseTimes times;
    private final LayerStream stream;
    private final List<LayerLayout> layers;
    private final int modulesTotal;
    private int nextLayer;
    private int modulesDone;
    private long startNanos;
    private Activations hidden;

    /**
     * @param calibration required for GPTQ, ignored (may be null) for round-to-nearest
     * @throws IllegalArgumentException when a Linear's shape cannot be quantised with these settings (see {@link #checkShapes})
     */
    public QuantizationPipeline(Checkpoint model, PipelineOptions options, Calibration calibration,
                                ProgressListener listener, PhaseTimes times) {
        if (model.config().isQuantized()) {
            throw new IllegalArgumentException(model.dir() + ": the checkpoint is already GPTQ-quantised; quantise its dense original");
        }
        if (options.method() == QuantizeMethod.GPTQ && calibration == null) {
            throw new IllegalArgumentException("GPTQ needs calibration data (--calib FILE); round-to-nearest (--method rtn) does not");
        }
        checkShapes(model.layout(), options.gptq());
        if (options.method() == QuantizeMethod.GPTQ && options.hessian() == HessianBackend.OPENCL) {
            try {
                OpenClHessian.bestDevice(); // before any output exists, not at the first layer
            } catch (IllegalStateException noDevice) {
                throw new IllegalArgumentException(noDevice.getMessage(), noDevice);
            }
        }
        this.model = model;
        this.options = options;
        this.calibration = calibration;
        this.listener = listener;
        this.times = times;
        this.stream = new LayerStream(model);
        this.layers = model.layout().layers();
        int perLayer = layers.get(0).linears().size();
        this.modulesTotal = perLayer * layers.size();
    }

    /**
     * Refuses, before any work, a model with a Linear that GPTQ loaders cannot hold: a group size that does not divide
     * its input width, or widths that are not multiples of 8 (qweight packs 8 input rows, qzeros 8 output columns per int32).
     */
    public static void checkShapes(ModelLayout layout, GptqConfig config) {
        for (LayerLayout l : layout.layers()) {
            for (LinearRef ref : l.linears()) {
                config.checkInFeatures(ref.prefix(), ref.inFeatures());
                if (ref.inFeatures() % 8 != 0 || ref.outFeatures() % 8 != 0) {
                    throw new IllegalArgumentException(ref.prefix() + ": shape [" + ref.outFeatures() + ", " + ref.inFeatures()
                            + "] cannot be packed: GPTQ Int4 needs in_features and out_features that are multiples of 8");
                }
            }
        }
    }

    public int layerCount() { return layers.size(); }

    /** Index of the layer {@link #next()} quantises; equals {@link #layerCount()} when all are done. */
    public int nextLayer() { return nextLayer; }

    public boolean hasNext() { return nextLayer < layers.size(); }

    /** Quantises the next decoder layer. */
    public QuantizedLayer next() {
        if (!hasNext()) throw new IllegalStateException("all " + layers.size() + " layers are already quantised");
        long t0 = System.nanoTime();
        if (nextLayer == 0) startNanos = t0;
        LayerLayout layout = layers.get(nextLayer);
        Map<String, PackedLinear> packed = new LinkedHashMap<>();
        List<ModuleReport> reports = new ArrayList<>();
        if (options.method() == QuantizeMethod.RTN) {
            quantizeRoundToNearest(layout, packed, reports);
        } else {
            quantizeGptq(layout, packed, reports);
        }
        QuantizedLayer done = new QuantizedLayer(nextLayer, packed, reports, (System.nanoTime() - t0) / 1e9);
        listener.layerDone(done, progress());
        nextLayer++;
        if (!hasNext()) hidden = null;
        return done;
    }

    private void quantizeRoundToNearest(LayerLayout layout, Map<String, PackedLinear> packed, List<ModuleReport> reports) {
        RtnQuantizer rtn = new RtnQuantizer(options.gptq());
        for (List<LinearRef> group : layout.sequentialGroups()) {
            for (LinearRef ref : group) {
                float[] weight = LayerWeightsLoader.loadLinear(model, ref).weight();
                long t0 = System.nanoTime();
                QuantizedLinear q = rtn.quantize(ref.prefix(), weight, ref.outFeatures(), ref.inFeatures());
                long solve = System.nanoTime() - t0;
                times.add(Phase.SOLVE, solve);
                finish(ref, q, new ModuleReport(ref.prefix(), layout.index(), kindOf(group), ref.outFeatures(), ref.inFeatures(),
                        null, 0, solve / 1e9), packed, reports);
            }
        }
    }

    private void quantizeGptq(LayerLayout layout, Map<String, PackedLinear> packed, List<ModuleReport> reports) {
        if (hidden == null) hidden = stream.embed(calibration.windows());
        GptqSolver solver = new GptqSolver(options.gptq());
        LayerWeights w = stream.loadLayer(layout.index());
        if (options.trueSequential()) {
            for (List<LinearRef> group : layout.sequentialGroups()) {
                Map<InputGroup.Kind, Hessian> h = hessians(w, List.of(group));
                w = solveGroup(w, layout, group, h.get(kindOf(group)), solver, packed, reports);
            }
        } else {
            Map<InputGroup.Kind, Hessian> h = hessians(w, layout.sequentialGroups());
            for (List<LinearRef> group : layout.sequentialGroups()) {
                w = solveGroup(w, layout, group, h.get(kindOf(group)), solver, packed, reports);
            }
        }
        hidden = forward(w, LinearInputObserver.NONE);
    }

    /** A finished Hessian and the tokens it averages over. */
    private record Hessian(float[] matrix, long tokens) {}

    /** One forward of the layer as it stands, accumulating one Hessian for the input of each of {@code groups}. */
    private Map<InputGroup.Kind, Hessian> hessians(LayerWeights w, List<List<LinearRef>> groups) {
        Map<InputGroup.Kind, HessianAccumulator> acc = new EnumMap<>(InputGroup.Kind.class);
        try {
            for (List<LinearRef> g : groups) acc.put(kindOf(g), options.hessian().open(g.get(0).inFeatures()));
            forward(w, (group, input, lengths) -> {
                HessianAccumulator a = acc.get(group.kind());
                if (a == null) return;
                long t0 = System.nanoTime();
                a.add(input, input.length / group.inFeatures(), group.inFeatures());
                times.add(Phase.HESSIAN, System.nanoTime() - t0);
            });
            Map<InputGroup.Kind, Hessian> out = new EnumMap<>(InputGroup.Kind.class);
            long t0 = System.nanoTime();
            for (Map.Entry<InputGroup.Kind, HessianAccumulator> e : acc.entrySet()) {
                out.put(e.getKey(), new Hessian(e.getValue().hessian(), e.getValue().tokens()));
            }
            times.add(Phase.HESSIAN, System.nanoTime() - t0);
            return out;
        } finally {
            acc.values().forEach(HessianAccumulator::close);
        }
    }

    /** Runs the layer over all windows; the time spent in Hessian updates during it is not counted as forward time. */
    private Activations forward(LayerWeights w, LinearInputObserver observer) {
        long hessianBefore = times.nanos(Phase.HESSIAN);
        long t0 = System.nanoTime();
        Activations out = stream.forward(w, hidden, observer);
        times.add(Phase.FORWARD, System.nanoTime() - t0 - (times.nanos(Phase.HESSIAN) - hessianBefore));
        return out;
    }

    private LayerWeights solveGroup(LayerWeights w, LayerLayout layout, List<LinearRef> group, Hessian h, GptqSolver solver,
                                    Map<String, PackedLinear> packed, List<ModuleReport> reports) {
        for (LinearRef ref : group) {
            long t0 = System.nanoTime();
            QuantizedLinear q = solver.quantize(ref.prefix(), w.linear(ref.role()).weight(), ref.outFeatures(), ref.inFeatures(),
                    h.matrix());
            long solve = System.nanoTime() - t0;
            times.add(Phase.SOLVE, solve);
            finish(ref, q, new ModuleReport(ref.prefix(), layout.index(), kindOf(group), ref.outFeatures(), ref.inFeatures(),
                    q.report(), h.tokens(), solve / 1e9), packed, reports);
            w = w.withWeight(ref.role(), q.dequantized());
        }
        return w;
    }

    private void finish(LinearRef ref, QuantizedLinear q, ModuleReport report, Map<String, PackedLinear> packed,
                        List<ModuleReport> reports) {
        long t0 = System.nanoTime();
        packed.put(ref.prefix(), q.pack(ref.prefix(), options.zeroFormat()));
        times.add(Phase.PACK, System.nanoTime() - t0);
        reports.add(report);
        modulesDone++;
        listener.moduleDone(report, q, progress());
    }

    /** Frees the runtime's native memory. */
    @Override
    public void close() {
        hidden = null;
        stream.close();
    }

    private ProgressListener.Progress progress() {
        return new ProgressListener.Progress(nextLayer, layers.size(), modulesDone, modulesTotal, (System.nanoTime() - startNanos) / 1e9);
    }

    /** The input a sequential subset of Linears reads. */
    static InputGroup.Kind kindOf(List<LinearRef> group) {
        return switch (group.get(0).role()) {
            case Q, K, V, QKV -> InputGroup.Kind.ATTENTION;
            case O -> InputGroup.Kind.OUTPUT;
            case UP, GATE -> InputGroup.Kind.MLP;
            case DOWN -> InputGroup.Kind.DOWN;
        };
    }
}
