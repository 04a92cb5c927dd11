package zq.runtime;

import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * One pre-norm decoder layer of llama, qwen2, mistral or zhinao, in fp32:
 * {@code x += o(attn(rope(q,k), v))} on {@code rmsnorm(x)}, then {@code x += down(silu(gate(h)) · up(h))}
 * on {@code h = rmsnorm(x)}, computed as the steps of {@link LayerSteps}. Rows are processed in chunks of up to
 * {@link #maxChunkRows()} so that each Linear is one large gemm: short windows are packed whole into a chunk, a
 * window longer than a chunk is cut into chunks of consecutive positions whose keys and values accumulate in a
 * {@link LayerKv}, so the working set stays bounded by the chunk while the cache grows linearly with the window.
 * The layer's weights are copied to native memory once per call, into the same memory as the previous layer's.
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

    /**
     * The layer's output for every window of {@code x} (each starting at position 0); {@code observer} sees each
     * Linear group's input, chunk by chunk (a window longer than a chunk is seen in pieces).
     */
    public Activations forward(LayerWeights w, Activations x, LinearInputObserver observer) {
        List<Chunk> chunks = chunks(x);
        LayerSteps steps = steps(w);
        for (Chunk c : chunks) steps.forward(c, observer);
        return windows(chunks);
    }

    /** The layer as its four steps, for a caller that runs them one at a time (GPTQ); see {@link LayerSteps}. */
    public LayerSteps steps(LayerWeights w) {
        return new LayerSteps(config, attention, fused, workspace, scratch, w);
    }

    /**
     * The windows of {@code x} copied into chunks of up to {@link #maxChunkRows()} rows, in order: short windows are
     * packed whole, a longer window is cut into pieces of consecutive positions that share this layer's scratch
     * cache (so the pieces of one window must run in order). The blocking every forward uses, so that the same
     * windows always give the same gemms.
     */
    public List<Chunk> chunks(Activations x) {
        int h = config.hiddenSize();
        if (x.width() != h) throw new IllegalArgumentException("activations are " + x.width() + " wide, the model's hidden_size is " + h);
        List<Chunk> chunks = new ArrayList<>();
        int first = 0;
        while (first < x.windowCount()) {
            int len0 = x.length(first);
            if (len0 > maxChunkRows) { // a long window alone, in chunks of positions
                float[] win = x.windows().get(first);
                for (int c0 = 0; c0 < len0; c0 += maxChunkRows) {
                    int n = Math.min(maxChunkRows, len0 - c0);
                    float[] piece = new float[n * h];
                    System.arraycopy(win, c0 * h, piece, 0, piece.length);
                    chunks.add(new Chunk(piece, new int[]{n}, scratch, c0, len0));
                }
                first++;
                continue;
            }
            int end = first, rows = 0;
            while (end < x.windowCount() && x.length(end) <= maxChunkRows && rows + x.length(end) <= maxChunkRows) rows += x.length(end++);
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

    /** The windows of {@code chunks} as separate arrays again (the pieces of a long window joined). */
    public Activations windows(List<Chunk> chunks) {
        int h = config.hiddenSize();
        List<float[]> out = new ArrayList<>();
        for (Chunk c : chunks) {
            if (c.continuesWindow()) {
                float[] head = out.remove(out.size() - 1);
                float[] joined = java.util.Arrays.copyOf(head, head.length + c.x().length);
                System.arraycopy(c.x(), 0, joined, head.length, c.x().length);
                out.add(joined);
                continue;
            }
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

    /**
     * Runs the next {@code rows} positions of a sequence through this layer, in place in
     * {@code x [rows × hidden]}, attending to the positions already in {@code cache} and appending these.
     */
    public void prefill(LayerWeights w, float[] x, int rows, LayerKv cache) {
        int h = config.hiddenSize();
        if (x.length != (long) rows * h) {
            throw new IllegalArgumentException("activations have " + x.length + " values, expected " + rows + "×" + h);
        }
        int start = cache.length();
        cache.reserve(start + rows);
        LayerSteps steps = steps(w);
        for (int c0 = 0; c0 < rows; c0 += maxChunkRows) {
            int n = Math.min(maxChunkRows, rows - c0);
            float[] piece = new float[n * h];
            System.arraycopy(x, c0 * h, piece, 0, piece.length);
            steps.forward(new Chunk(piece, new int[]{n}, cache, start + c0, cache.ropeLength()), LinearInputObserver.NONE);
            System.arraycopy(piece, 0, x, c0 * h, piece.length);
        }
    }

    @Override public void close() { scratch.close(); }
}
