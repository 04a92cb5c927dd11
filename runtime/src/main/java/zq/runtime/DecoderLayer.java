package zq.runtime;

import zq.formats.LinearRef;
import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * One pre-norm decoder layer of llama, qwen2, mistral or zhinao, in fp32:
 * {@code x += o(attn(rope(q,k), v))} on {@code rmsnorm(x)}, then {@code x += down(silu(gate(h)) · up(h))}
 * on {@code h = rmsnorm(x)}. Rows are processed in chunks of up to {@link #maxChunkRows()} so that each
 * Linear is one large gemm: short windows are packed whole into a chunk, a window longer than a chunk is
 * cut into chunks of consecutive positions whose keys and values accumulate in a {@link LayerKv}, so the
 * working set stays bounded by the chunk while the cache grows linearly with the window. The layer's
 * weights are copied to native memory once per call, into the same memory as the previous layer's.
 * Not thread-safe; close it to free its scratch cache.
 */
public final class DecoderLayer implements AutoCloseable {
    /** Rows per gemm: large enough to run sgemm near its peak, small enough for a 13056-wide MLP at 7B scale. */
    public static final int DEFAULT_CHUNK_ROWS = 4096;

    private final ModelConfig config;
    private final Attention attention;
    private final FusedQkv fused;
    private final int maxChunkRows;
    private final NativeWorkspace workspace;
    /** Keys and values of the window being processed, in the layer-by-layer passes of {@link #forward}. */
    private final LayerKv scratch;

    /** @param workspace native memory for the weights and gemms, reused from layer to layer */
    public DecoderLayer(ModelConfig config, int maxChunkRows, NativeWorkspace workspace) {
        if (maxChunkRows <= 0) throw new IllegalArgumentException("rows per chunk must be positive, got " + maxChunkRows);
        this.config = config;
        this.workspace = workspace;
        this.attention = new Attention(config, workspace);
        this.fused = new FusedQkv(config.numHeads(), config.numKvHeads(), config.headDim());
        this.maxChunkRows = maxChunkRows;
        this.scratch = new LayerKv(config.numKvHeads(), config.headDim());
    }

    public int maxChunkRows() { return maxChunkRows; }

    public Attention attention() { return attention; }

    /** Consecutive rows of one chunk that belong to one sequence: a whole window, or a piece of one. */
    private record Segment(int rows, LayerKv cache, boolean startsWindow) {}

    /** A layer's weights in native memory, ready for many chunks. */
    private record Resident(LayerWeights w, Map<LinearRef.Role, NativeMatrix> matrices, QkvProjection qkv, NativeMatrix qkvMatrix) {}

    private Resident load(LayerWeights w) {
        Map<LinearRef.Role, NativeMatrix> resident = new EnumMap<>(LinearRef.Role.class);
        for (Linear l : List.of(w.o(), w.gate(), w.up(), w.down())) {
            resident.put(l.ref().role(), workspace.load(l.ref().role().name(), l.weight(), l.outFeatures(), l.inFeatures()));
        }
        QkvProjection qkv = QkvProjection.of(w.attention(), fused);
        NativeMatrix qkvMatrix = workspace.load("QKV_PROJECTION", qkv.weight(), qkv.outFeatures(), qkv.in());
        return new Resident(w, resident, qkv, qkvMatrix);
    }

    /**
     * The layer's output for every window of {@code x} (each starting at position 0); {@code observer} sees
     * each Linear group's input, chunk by chunk (a window longer than a chunk is seen in pieces).
     */
    public Activations forward(LayerWeights w, Activations x, LinearInputObserver observer) {
        int h = config.hiddenSize();
        if (x.width() != h) throw new IllegalArgumentException("activations are " + x.width() + " wide, the model's hidden_size is " + h);
        Resident r = load(w);
        List<float[]> out = new ArrayList<>(x.windowCount());
        for (int i = 0; i < x.windowCount(); i++) out.add(x.windows().get(i).clone());
        int first = 0;
        while (first < x.windowCount()) {
            if (x.length(first) > maxChunkRows) { // a long window alone, in chunks of positions
                scratch.reset(x.length(first));
                scratch.reserve(x.length(first));
                runInChunks(r, out.get(first), 0, x.length(first), scratch, observer);
                first++;
                continue;
            }
            int end = first, rows = 0;
            while (end < x.windowCount() && x.length(end) <= maxChunkRows && rows + x.length(end) <= maxChunkRows) rows += x.length(end++);
            float[] chunk = new float[rows * h];
            List<Segment> segments = new ArrayList<>();
            int at = 0;
            for (int i = first; i < end; i++) {
                System.arraycopy(out.get(i), 0, chunk, at, out.get(i).length);
                at += out.get(i).length;
                segments.add(new Segment(x.length(i), scratch, true));
            }
            forwardChunk(r, chunk, rows, segments, observer);
            at = 0;
            for (int i = first; i < end; i++) {
                System.arraycopy(chunk, at, out.get(i), 0, out.get(i).length);
                at += out.get(i).length;
            }
            first = end;
        }
        return new Activations(h, out);
    }

    /**
     * Runs the next {@code rows} positions of a sequence through this layer, in place in
     * {@code x [rows × hidden]}, attending to the positions already in {@code cache} and appending these.
     */
    public void prefill(LayerWeights w, float[] x, int rows, LayerKv cache) {
        if (x.length != (long) rows * config.hiddenSize()) {
            throw new IllegalArgumentException("activations have " + x.length + " values, expected " + rows + "×" + config.hiddenSize());
        }
        cache.reserve(cache.length() + rows);
        runInChunks(load(w), x, 0, rows, cache, LinearInputObserver.NONE);
    }

    /** Rows {@code [row0, row0+rows)} of x, one sequence, in chunks of at most {@link #maxChunkRows()} positions. */
    private void runInChunks(Resident r, float[] x, int row0, int rows, LayerKv cache, LinearInputObserver observer) {
        int h = config.hiddenSize();
        for (int c0 = 0; c0 < rows; c0 += maxChunkRows) {
            int n = Math.min(maxChunkRows, rows - c0);
            float[] chunk = new float[n * h];
            System.arraycopy(x, (row0 + c0) * h, chunk, 0, chunk.length);
            forwardChunk(r, chunk, n, List.of(new Segment(n, cache, false)), observer);
            System.arraycopy(chunk, 0, x, (row0 + c0) * h, chunk.length);
        }
    }

    /** Runs the layer on {@code x [rows × hidden]} (segments back to back), updating x in place. */
    private void forwardChunk(Resident r, float[] x, int rows, List<Segment> segments, LinearInputObserver observer) {
        LayerWeights w = r.w();
        int layer = w.index();
        int[] lengths = segments.stream().mapToInt(Segment::rows).toArray();
        float[] normed = RmsNorm.apply(x, rows, w.inputNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.ATTENTION, refs(w.attention())), normed, lengths);
        float[][] qkvOut = r.qkv().split(addBias(r.qkvMatrix().multiplyTransposed(normed, rows), r.qkv().bias(), rows), rows);
        float[] mixed = new float[rows * config.numHeads() * config.headDim()];
        int row0 = 0;
        for (Segment s : segments) {
            if (s.startsWindow()) s.cache().reset(s.rows());
            attention.apply(qkvOut[0], qkvOut[1], qkvOut[2], row0, s.rows(), s.cache(), mixed);
            row0 += s.rows();
        }
        observer.observe(new InputGroup(layer, InputGroup.Kind.OUTPUT, List.of(w.o().ref())), mixed, lengths);
        addInPlace(x, apply(w.o(), r.matrices(), mixed, rows));

        normed = RmsNorm.apply(x, rows, w.postAttentionNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.MLP, List.of(w.up().ref(), w.gate().ref())), normed, lengths);
        float[] gate = apply(w.gate(), r.matrices(), normed, rows);
        float[] upOut = apply(w.up(), r.matrices(), normed, rows);
        swiGlu(gate, upOut);
        observer.observe(new InputGroup(layer, InputGroup.Kind.DOWN, List.of(w.down().ref())), gate, lengths);
        addInPlace(x, apply(w.down(), r.matrices(), gate, rows));
    }

    @Override public void close() { scratch.close(); }

    /** {@code x[rows × in] · Wᵀ + b}. */
    private static float[] apply(Linear l, Map<LinearRef.Role, NativeMatrix> resident, float[] x, int rows) {
        return addBias(resident.get(l.ref().role()).multiplyTransposed(x, rows), l.bias(), rows);
    }

    static float[] addBias(float[] y, float[] b, int rows) {
        if (b != null) {
            int out = b.length;
            for (int r = 0; r < rows; r++) for (int i = 0; i < out; i++) y[r * out + i] += b[i];
        }
        return y;
    }

    /** {@code gate ← silu(gate) · up}, silu(g) = g / (1 + e^−g), in fp32 as PyTorch computes it. */
    static void swiGlu(float[] gate, float[] up) {
        int pieces = (gate.length + PIECE - 1) / PIECE;
        IntStream.range(0, pieces).parallel().forEach(p -> {
            for (int i = p * PIECE, end = Math.min(gate.length, i + PIECE); i < end; i++) {
                float g = gate[i];
                gate[i] = g / (1f + FloatExp.exp(-g)) * up[i];
            }
        });
    }

    /** Elements per task of the element-wise loops: large enough that a task is a tight loop. */
    private static final int PIECE = 1 << 16;

    static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static List<LinearRef> refs(List<Linear> linears) {
        return linears.stream().map(Linear::ref).toList();
    }
}
