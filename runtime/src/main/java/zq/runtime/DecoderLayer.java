package zq.runtime;

import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * One pre-norm decoder layer of llama, qwen2, mistral or zhinao, in fp32:
 * {@code x += o(attn(rope(q,k), v))} on {@code rmsnorm(x)}, then {@code x += down(silu(gate(h)) · up(h))}
 * on {@code h = rmsnorm(x)}, computed as the steps of {@link LayerSteps}. Windows are processed in chunks of up to
 * {@link #maxChunkRows()} rows so that each Linear is one large gemm; the layer's weights are copied to native memory
 * once per call, into the same memory as the previous layer's. Not thread-safe.
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
        List<Chunk> chunks = chunks(x);
        LayerSteps steps = steps(w);
        for (Chunk c : chunks) steps.forward(c, observer);
        return windows(chunks);
    }

    /** The layer as its four steps, for a caller that runs them one at a time (GPTQ); see {@link LayerSteps}. */
    public LayerSteps steps(LayerWeights w) {
        return new LayerSteps(config, attention, fused, workspace, w);
    }

    /**
     * The windows of {@code x} copied into chunks of up to {@link #maxChunkRows()} rows (a longer window is a chunk
     * of its own), in order: the blocking every forward uses, so that the same windows always give the same gemms.
     */
    public List<Chunk> chunks(Activations x) {
        int h = config.hiddenSize();
        if (x.width() != h) throw new IllegalArgumentException("activations are " + x.width() + " wide, the model's hidden_size is " + h);
        List<Chunk> chunks = new ArrayList<>();
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
            chunks.add(new Chunk(chunk, lengths));
            first = end;
        }
        return chunks;
    }

    /** The windows of {@code chunks} as separate arrays again. */
    public Activations windows(List<Chunk> chunks) {
        int h = config.hiddenSize();
        List<float[]> out = new ArrayList<>();
        for (Chunk c : chunks) {
            int at = 0;
            for (int len : c.lengths()) {
                float[] win = new float[len * h];
                System.arraycopy(c.x(), at, win, 0, win.length);
                out.add(win);
                at += win.length;
            }
        }
        return new Activations(h, out);
    }
}
