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
import zq.gptq.InverseHessian;
import zq.formats.gptq.PackedLinear;
import zq.gptq.QuantizedLinear;
import zq.gptq.RtnQuantizer;
import zq.gptq.hessian.HessianAccumulator;
import zq.gptq.hessian.HessianBackend;
import zq.runtime.Chunk;
import zq.runtime.InputGroup;
import zq.runtime.InputGroup.Kind;
import zq.runtime.LayerSteps;
import zq.runtime.LayerStream;
import zq.runtime.LayerWeights;
import zq.runtime.LayerWeightsLoader;
import zq.runtime.NativeWorkspace;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * Quantises a dense checkpoint one decoder layer at a time, in order (AutoGPTQ's {@code quantize()},
 * docs/gptq.md, "Layers in order"). {@link #next()} decodes one layer's weights from the memory-mapped input, quantises its
 * Linears and returns them packed; nothing of earlier layers is kept, so memory does not grow with depth.
 *
 * <p>GPTQ with true-sequential: the calibration windows are embedded once and kept as the residual stream of
 * gemm-sized chunks. Each layer then runs as the four steps of {@link LayerSteps}, one {@link InputGroup} at a time:
 * a pass over all chunks computes the group's input from the groups before it (already quantised) and accumulates
 * the group's Hessian; the group is solved and its weights replaced by their fake-quantised values
 * ({@link QuantizedLinear#dequantized()}, the fp16-scale weights a loader decodes); the next pass goes on from there,
 * and a last pass applies the quantised down_proj, which leaves the next layer's input. That is one forward per
 * layer, where AutoGPTQ's hooks run the whole layer once per group and once more at the end: every group reads
 * exactly the numbers it would read there (the same steps on the same chunks), so the checkpoint is bit-identical
 * ({@code StagedForwardTest} compares it with that five-forward reference). The inputs of o_proj and down_proj are
 * kept from the pass that takes their Hessian to the pass that applies them while they fit
 * {@link PipelineOptions#stageBudgetBytes()}; otherwise they are recomputed, and {@link #forwardsPerLayer()} says
 * what that cost.
 *
 * <p>Without true-sequential: one forward of the unquantised layer feeds all four Hessians, and after the solves one
 * forward of the quantised layer gives the next layer's input (two forwards).
 *
 * <p>Linears that read the same input share one Hessian and one factorisation ({@link InverseHessian}).
 * Round-to-nearest needs no calibration and no forward passes: each Linear is decoded and rounded alone.
 *
 * <p>The pipeline owns the runtime's native memory; close it when done (the checkpoint stays the caller's).
 */
public final class QuantizationPipeline implements AutoCloseable {
    private final Checkpoint model;
    private final PipelineOptions options;
    private final Calibration calibration;
    private final ProgressListener listener;
    private final PhaseTimes times;
    private final NativeWorkspace workspace;
    private final LayerStream stream;
    private final HessianBackend hessians;
    private final List<LayerLayout> layers;
    private final int modulesTotal;
    private int nextLayer;
    private int modulesDone;
    private long startNanos;
    private int layersDone;
    private double finishedLayersSeconds;
    private double forwardFlops;
    private List<Chunk> chunks;

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
        // resolved before any output exists, not at the first layer
        this.hessians = options.method() == QuantizeMethod.GPTQ ? options.hessian().resolve() : HessianBackend.CPU;
        this.model = model;
        this.options = options;
        this.calibration = calibration;
        this.listener = listener;
        this.times = times;
        this.workspace = new NativeWorkspace();
        this.stream = new LayerStream(model, options.chunkRows(), 0, workspace);
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

    /** The work this run will do (GPTQ), known before the first layer. */
    public WorkEstimate estimate() {
        List<Integer> lengths = calibration == null ? List.of() : calibration.windows().stream().map(w -> w.length).toList();
        return WorkEstimate.of(model.config(), model.layout(), options, lengths);
    }

    public int layerCount() { return layers.size(); }

    /** Index of the layer {@link #next()} quantises; equals {@link #layerCount()} when all are done. */
    public int nextLayer() { return nextLayer; }

    public boolean hasNext() { return nextLayer < layers.size(); }

    /** Forward work done so far per finished layer, in units of one forward of a layer over all calibration tokens. */
    public double forwardsPerLayer() {
        if (layersDone == 0 || calibration == null) return 0;
        WorkEstimate once = WorkEstimate.of(model.config(), model.layout(), options.withStageBudget(Long.MAX_VALUE),
                calibration.windows().stream().map(w -> w.length).toList());
        double perForward = once.forwardFlops() / once.forwardsPerLayer() / once.layers();
        return forwardFlops / layersDone / perForward;
    }

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
        double seconds = (System.nanoTime() - t0) / 1e9;
        QuantizedLayer done = new QuantizedLayer(nextLayer, packed, reports, seconds);
        layersDone = nextLayer + 1;
        finishedLayersSeconds = (System.nanoTime() - startNanos) / 1e9;
        listener.layerDone(done, progress());
        nextLayer++;
        if (!hasNext()) releaseLayerMemory();
        return done;
    }

    private void quantizeRoundToNearest(LayerLayout layout, Map<String, PackedLinear> packed, List<ModuleReport> reports) {
        RtnQuantizer rtn = new RtnQuantizer(options.gptq());
        for (LinearRef ref : layout.linears()) {
            float[] weight;
            try (var t = times.time(Phase.READ)) {
                weight = LayerWeightsLoader.loadLinear(model, ref).weight();
            }
            QuantizedLinear q;
            double solve;
            try (var t = times.time(Phase.SOLVE)) {
                q = rtn.quantize(ref.prefix(), weight, ref.outFeatures(), ref.inFeatures());
                solve = t.seconds();
            }
            finish(ref, q, new ModuleReport(ref.prefix(), layout.index(), Kind.of(ref.role()), ref.outFeatures(), ref.inFeatures(),
                    null, 0, solve), packed, reports);
        }
    }

    private void quantizeGptq(LayerLayout layout, Map<String, PackedLinear> packed, List<ModuleReport> reports) {
        LayerSteps steps;
        try (var t = times.time(Phase.READ)) {
            if (chunks == null) chunks = stream.decoder().chunks(stream.embed(calibration.windows()));
            steps = stream.decoder().steps(stream.loadLayer(layout.index()));
        }
        GptqSolver solver = new GptqSolver(options.gptq());
        if (options.trueSequential()) {
            quantizeStaged(layout, steps, solver, packed, reports);
        } else {
            Map<Kind, Hessian> h = denseHessians(layout, steps);
            try {
                for (InputGroup g : InputGroup.of(layout)) solveGroup(steps, g, h.get(g.kind()), solver, packed, reports);
            } finally {
                h.values().forEach(Hessian::close);
            }
            for (Chunk c : chunks) {
                for (Kind k : Kind.values()) countStep(layout, k, c);
                try (var t = times.time(Phase.FORWARD)) {
                    steps.forward(c, (group, input, lengths) -> { });
                }
            }
        }
    }

    /**
     * A finished Hessian (its lower triangle, native) and the tokens it averages over. The matrix is handed to the
     * factorisation once, which makes its factor in the same memory or frees it (an intermediate-wide one is 0.7 GB at
     * 7B width); close frees it if it was never factored.
     */
    private static final class Hessian implements AutoCloseable {
        private OffHeapMatrix lower;
        private final long tokens;

        Hessian(OffHeapMatrix lower, long tokens) {
            this.lower = lower;
            this.tokens = tokens;
        }

        long tokens() { return tokens; }

        OffHeapMatrix take() {
            OffHeapMatrix m = lower;
            if (m == null) throw new IllegalStateException("the Hessian was already factored");
            lower = null;
            return m;
        }

        @Override public void close() {
            if (lower != null) lower.close();
            lower = null;
        }
    }

    /**
     * One pass per group: each chunk's input of the group, from the previous group's step (with that group already
     * quantised), goes into the group's Hessian; the group is solved before the next pass. A last pass applies down_proj.
     */
    private void quantizeStaged(LayerLayout layout, LayerSteps steps, GptqSolver solver, Map<String, PackedLinear> packed,
                                List<ModuleReport> reports) {
        long tokens = calibration.tokens();
        List<float[]> kept = null; // the previous group's inputs, one per chunk, when they fit the budget
        for (InputGroup g : InputGroup.of(layout)) {
            Kind previous = g.kind().previous();
            boolean keep = !g.kind().readsNormedResidual() && WorkEstimate.keepsInput(options, tokens, g.inFeatures());
            List<float[]> keeping = keep ? new ArrayList<>(chunks.size()) : null;
            Hessian h;
            // A kept input is accumulated only after the pass, once the workspace is freed: the accumulator (0.7 GB for
            // down_proj at 7B width) then never coexists with the resident weights the pass needs. Same adds, same order.
            HessianAccumulator acc = keep ? null : hessians.open(g.inFeatures());
            try {
                for (int i = 0; i < chunks.size(); i++) {
                    Chunk c = chunks.get(i);
                    float[] input = previous == null ? steps.input(g.kind(), c) : advance(layout, steps, previous, c, kept, i);
                    if (keep) keeping.add(input);
                    else accumulate(acc, input, c);
                }
                steps.releaseNative();
                if (keep) {
                    acc = hessians.open(g.inFeatures());
                    for (int i = 0; i < chunks.size(); i++) accumulate(acc, keeping.get(i), chunks.get(i));
                }
                h = finish(acc);
            } finally {
                if (acc != null) acc.close();
            }
            kept = keeping;
            try (h) {
                solveGroup(steps, g, h, solver, packed, reports);
            }
        }
        for (int i = 0; i < chunks.size(); i++) advance(layout, steps, Kind.DOWN, chunks.get(i), kept, i);
    }

    private void accumulate(HessianAccumulator acc, float[] input, Chunk c) {
        try (var t = times.time(Phase.HESSIAN)) {
            acc.add(input, c.rows(), acc.features());
        }
    }

    /** Runs group {@code kind}'s step on chunk {@code i}, from its kept input or one recomputed from the residual stream. */
    private float[] advance(LayerLayout layout, LayerSteps steps, Kind kind, Chunk c, List<float[]> kept, int i) {
        try (var t = times.time(Phase.FORWARD)) {
            float[] input;
            if (kept != null) {
                input = kept.get(i);
                kept.set(i, null); // used once: let it go
            } else {
                if (!kind.readsNormedResidual()) countStep(layout, kind.previous(), c);
                input = steps.input(kind, c);
            }
            countStep(layout, kind, c);
            return steps.step(kind, c, input);
        }
    }

    private void countStep(LayerLayout layout, Kind kind, Chunk c) {
        forwardFlops += WorkEstimate.stepFlops(model.config(), layout, kind, c.lengths());
    }

    /** All four Hessians from one forward of the unquantised layer over copies of the chunks. */
    private Map<Kind, Hessian> denseHessians(LayerLayout layout, LayerSteps steps) {
        Map<Kind, HessianAccumulator> acc = new EnumMap<>(Kind.class);
        try {
            for (InputGroup g : InputGroup.of(layout)) acc.put(g.kind(), hessians.open(g.inFeatures()));
            long hessianBefore = times.nanos(Phase.HESSIAN);
            long t0 = System.nanoTime();
            for (Chunk c : chunks) {
                for (Kind k : Kind.values()) countStep(layout, k, c);
                steps.forward(c.copy(), (group, input, lengths) -> {
                    try (var t = times.time(Phase.HESSIAN)) {
                        acc.get(group.kind()).add(input, input.length / group.inFeatures(), group.inFeatures());
                    }
                });
            }
            times.add(Phase.FORWARD, System.nanoTime() - t0 - (times.nanos(Phase.HESSIAN) - hessianBefore));
            steps.releaseNative();
            Map<Kind, Hessian> out = new EnumMap<>(Kind.class);
            try {
                for (Map.Entry<Kind, HessianAccumulator> e : acc.entrySet()) out.put(e.getKey(), finish(e.getValue()));
            } catch (RuntimeException e) {
                out.values().forEach(Hessian::close);
                throw e;
            }
            return out;
        } finally {
            acc.values().forEach(HessianAccumulator::close);
        }
    }

    private Hessian finish(HessianAccumulator acc) {
        try (var t = times.time(Phase.HESSIAN)) {
            return new Hessian(acc.takeLowerTriangle(), acc.tokens());
        }
    }

    /** Solves the group's Linears with one factorisation of their shared Hessian and swaps in their quantised weights. */
    private void solveGroup(LayerSteps steps, InputGroup g, Hessian h, GptqSolver solver, Map<String, PackedLinear> packed,
                            List<ModuleReport> reports) {
        LayerWeights w = steps.weights();
        try (InverseHessian factor = timedFactor(solver, g, h)) {
            boolean first = true;
            for (LinearRef ref : g.linears()) {
                QuantizedLinear q;
                try (var t = times.time(Phase.SOLVE)) {
                    q = solver.quantize(ref.prefix(), w.linear(ref.role()).weight(), ref.outFeatures(), ref.inFeatures(), factor, first);
                }
                first = false;
                finish(ref, q, new ModuleReport(ref.prefix(), g.layer(), g.kind(), ref.outFeatures(), ref.inFeatures(),
                        q.report(), h.tokens(), q.report().totalSeconds()), packed, reports);
                w = w.withWeight(ref.role(), q.dequantized());
            }
        }
        steps.update(w);
    }

    private InverseHessian timedFactor(GptqSolver solver, InputGroup g, Hessian h) {
        try (var t = times.time(Phase.SOLVE)) {
            return solver.factor(g.linears().get(0).prefix(), h.take()); // the factor is made in the Hessian's memory
        }
    }

    private void finish(LinearRef ref, QuantizedLinear q, ModuleReport report, Map<String, PackedLinear> packed,
                        List<ModuleReport> reports) {
        try (var t = times.time(Phase.PACK)) {
            packed.put(ref.prefix(), q.pack(ref.prefix(), options.zeroFormat()));
        }
        reports.add(report);
        modulesDone++;
        listener.moduleDone(report, q, progress());
    }

    /**
     * After the last layer: the calibration stream, the workspace and the native buffers kept for the next layer's
     * shapes ({@link OffHeapMatrix#releaseRecycled}) go, before the caller converts the head.
     */
    private void releaseLayerMemory() {
        chunks = null;
        workspace.close();
        OffHeapMatrix.releaseRecycled();
    }

    /** Frees the runtime's native memory. */
    @Override
    public void close() {
        stream.close();
        releaseLayerMemory();
    }

    private ProgressListener.Progress progress() {
        return new ProgressListener.Progress(nextLayer, layers.size(), modulesDone, modulesTotal,
                (System.nanoTime() - startNanos) / 1e9, layersDone, finishedLayersSeconds);
    }
}
