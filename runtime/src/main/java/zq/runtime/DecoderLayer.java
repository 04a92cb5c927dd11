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
 * on {@code h = rmsnorm(x)}. Windows are processed in chunks of up to {@link #maxChunkRows()} rows so
 * that each Linear is one large gemm; the layer's weights are copied to native memory once per call,
 * into the same memory as the previous layer's. Not thread-safe.
 */
public final class DecoderLayer {
    /** Rows per gemm: large enough to run sgemm near its peak, small enough for a 13056-wide MLP at 7B scale. */
    public static final int DEFAULT_CHUNK_ROWS = 4096;

    private final ModelConfig config;
    private final Attention attention;
    private final FusedQkv fused;
    private final int maxChunkRows;
    private final NativeWorkspace workspace;

    /** @param workspace native memory for the weights and gemms, reused from layer to layer */
    public DecoderLayer(ModelConfig config, int maxChunkRows, NativeWorkspace workspace) {
        if (maxChunkRows <= 0) throw new IllegalArgumentException("rows per chunk must be positive, got " + maxChunkRows);
        this.config = config;
        this.workspace = workspace;
        this.attention = new Attention(config, workspace);
        this.fused = new FusedQkv(config.numHeads(), config.numKvHeads(), config.headDim());
        this.maxChunkRows = maxChunkRows;
    }

    public int maxChunkRows() { return maxChunkRows; }

    public Attention attention() { return attention; }

    /** The layer's output for every window of {@code x}; {@code observer} sees each Linear group's input. */
    public Activations forward(LayerWeights w, Activations x, LinearInputObserver observer) {
        int h = config.hiddenSize();
        if (x.width() != h) throw new IllegalArgumentException("activations are " + x.width() + " wide, the model's hidden_size is " + h);
        Map<LinearRef.Role, NativeMatrix> resident = new EnumMap<>(LinearRef.Role.class);
        for (Linear l : List.of(w.o(), w.gate(), w.up(), w.down())) {
            resident.put(l.ref().role(), workspace.load(l.ref().role().name(), l.weight(), l.outFeatures(), l.inFeatures()));
        }
        QkvProjection qkv = QkvProjection.of(w.attention(), fused);
        NativeMatrix qkvMatrix = workspace.load("QKV_PROJECTION", qkv.weight(), qkv.outFeatures(), qkv.in());
        List<float[]> out = new ArrayList<>(x.windowCount());
        int first = 0;
        while (first < x.windowCount()) {
            int end = first, rows = 0;
            while (end < x.windowCount() && (end == first || rows + x.length(end) <= maxChunkRows)) rows += x.length(end++);
            int[] lengths = new int[end - first];
            float[] chunk = new float[rows * h];
            int at = 0;
            for (int i = first; i < end; i++) {
                lengths[i - first] = x.length(i);
                System.arraycopy(x.windows().get(i), 0, chunk, at, x.windows().get(i).length);
                at += x.windows().get(i).length;
            }
            forwardChunk(w, resident, qkv, qkvMatrix, chunk, lengths, rows, observer);
            at = 0;
            for (int len : lengths) {
                float[] win = new float[len * h];
                System.arraycopy(chunk, at, win, 0, win.length);
                out.add(win);
                at += win.length;
            }
            first = end;
        }
        return new Activations(h, out);
    }

    /** Runs the layer on {@code x [rows × hidden]} (several windows back to back), updating x in place. */
    private void forwardChunk(LayerWeights w, Map<LinearRef.Role, NativeMatrix> resident, QkvProjection qkv,
                              NativeMatrix qkvMatrix, float[] x, int[] lengths, int rows, LinearInputObserver observer) {
        int layer = w.index();
        float[] normed = RmsNorm.apply(x, rows, w.inputNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.ATTENTION, refs(w.attention())), normed, lengths);
        float[][] qkvOut = qkv.split(addBias(qkvMatrix.multiplyTransposed(normed, rows), qkv.bias(), rows), rows);
        float[] mixed = attention.apply(qkvOut[0], qkvOut[1], qkvOut[2], lengths);
        observer.observe(new InputGroup(layer, InputGroup.Kind.OUTPUT, List.of(w.o().ref())), mixed, lengths);
        addInPlace(x, apply(w.o(), resident, mixed, rows));

        normed = RmsNorm.apply(x, rows, w.postAttentionNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.MLP, List.of(w.up().ref(), w.gate().ref())), normed, lengths);
        float[] gate = apply(w.gate(), resident, normed, rows);
        float[] upOut = apply(w.up(), resident, normed, rows);
        swiGlu(gate, upOut);
        observer.observe(new InputGroup(layer, InputGroup.Kind.DOWN, List.of(w.down().ref())), gate, lengths);
        addInPlace(x, apply(w.down(), resident, gate, rows));
    }

    /** {@code x[rows × in] · Wᵀ + b}. */
    private static float[] apply(Linear l, Map<LinearRef.Role, NativeMatrix> resident, float[] x, int rows) {
        return addBias(resident.get(l.ref().role()).multiplyTransposed(x, rows), l.bias(), rows);
    }

    private static float[] addBias(float[] y, float[] b, int rows) {
        if (b != null) {
            int out = b.length;
            for (int r = 0; r < rows; r++) for (int i = 0; i < out; i++) y[r * out + i] += b[i];
        }
        return y;
    }

    /** {@code gate ← silu(gate) · up}, silu(g) = g / (1 + e^−g), in fp32 as PyTorch computes it. */
    private static void swiGlu(float[] gate, float[] up) {
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

    private static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static List<LinearRef> refs(List<Linear> linears) {
        return linears.stream().map(Linear::ref).toList();
    }
}
