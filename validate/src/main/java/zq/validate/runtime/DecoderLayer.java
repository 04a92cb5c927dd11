package zq.validate.runtime;

import zq.formats.LinearRef;
import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One pre-norm decoder layer of llama, qwen2, mistral or zhinao, in fp32:
 * {@code x += o(attn(rope(q,k), v))} on {@code rmsnorm(x)}, then {@code x += down(silu(gate(h)) · up(h))}
 * on {@code h = rmsnorm(x)}. Windows are processed in chunks of up to {@link #maxChunkRows()} rows so
 * that each Linear is one large gemm; the layer's weights are copied to native memory once per call.
 */
public final class DecoderLayer {
    /** Rows per gemm: large enough to run sgemm near its peak, small enough for a 13056-wide MLP at 7B scale. */
    public static final int DEFAULT_CHUNK_ROWS = 4096;

    private final ModelConfig config;
    private final Attention attention;
    private final FusedQkv fused;
    private final int maxChunkRows;

    public DecoderLayer(ModelConfig config) { this(config, DEFAULT_CHUNK_ROWS); }

    public DecoderLayer(ModelConfig config, int maxChunkRows) {
        if (maxChunkRows <= 0) throw new IllegalArgumentException("rows per chunk must be positive, got " + maxChunkRows);
        this.config = config;
        this.attention = new Attention(config);
        this.fused = new FusedQkv(config.numHeads(), config.numKvHeads(), config.headDim());
        this.maxChunkRows = maxChunkRows;
    }

    public int maxChunkRows() { return maxChunkRows; }

    public Attention attention() { return attention; }

    /** The layer's output for every window of {@code x}; {@code observer} sees each Linear group's input. */
    public Activations forward(LayerWeights w, Activations x, LinearInputObserver observer) {
        int h = config.hiddenSize();
        if (x.width() != h) throw new IllegalArgumentException("activations are " + x.width() + " wide, the model's hidden_size is " + h);
        List<UploadedLinear> uploaded = new ArrayList<>();
        try {
            List<UploadedLinear> attn = new ArrayList<>();
            for (Linear l : w.attention()) attn.add(upload(l, uploaded));
            Uploaded up = new Uploaded(attn, upload(w.o(), uploaded), upload(w.gate(), uploaded), upload(w.up(), uploaded),
                    upload(w.down(), uploaded));
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
                forwardChunk(w, up, chunk, lengths, rows, observer);
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
        } finally {
            uploaded.forEach(UploadedLinear::close);
        }
    }

    private record Uploaded(List<UploadedLinear> attention, UploadedLinear o, UploadedLinear gate, UploadedLinear up,
                            UploadedLinear down) {}

    private static UploadedLinear upload(Linear l, List<UploadedLinear> all) {
        UploadedLinear u = new UploadedLinear(l);
        all.add(u);
        return u;
    }

    /** Runs the layer on {@code x [rows × hidden]} (several windows back to back), updating x in place. */
    private void forwardChunk(LayerWeights w, Uploaded up, float[] x, int[] lengths, int rows, LinearInputObserver observer) {
        int layer = w.index();
        float[] normed = RmsNorm.apply(x, rows, w.inputNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.ATTENTION, refs(w.attention())), normed, lengths);
        float[] q, k, v;
        if (up.attention().size() == 1) {
            float[][] split = fused.split(up.attention().get(0).apply(normed, rows), rows);
            q = split[0];
            k = split[1];
            v = split[2];
        } else {
            q = up.attention().get(0).apply(normed, rows);
            k = up.attention().get(1).apply(normed, rows);
            v = up.attention().get(2).apply(normed, rows);
        }
        float[] mixed = attention.apply(q, k, v, lengths);
        observer.observe(new InputGroup(layer, InputGroup.Kind.OUTPUT, List.of(w.o().ref())), mixed, lengths);
        addInPlace(x, up.o().apply(mixed, rows));

        normed = RmsNorm.apply(x, rows, w.postAttentionNorm(), config.rmsNormEps());
        observer.observe(new InputGroup(layer, InputGroup.Kind.MLP, List.of(w.up().ref(), w.gate().ref())), normed, lengths);
        float[] gate = up.gate().apply(normed, rows);
        float[] upOut = up.up().apply(normed, rows);
        swiGlu(gate, upOut);
        observer.observe(new InputGroup(layer, InputGroup.Kind.DOWN, List.of(w.down().ref())), gate, lengths);
        addInPlace(x, up.down().apply(gate, rows));
    }

    /** {@code gate ← silu(gate) · up}, silu(g) = g / (1 + e^−g). */
    private static void swiGlu(float[] gate, float[] up) {
        IntStream.range(0, gate.length).parallel().forEach(i -> {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        });
    }

    private static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static List<LinearRef> refs(List<Linear> linears) {
        return linears.stream().map(Linear::ref).toList();
    }
}
