package zq.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

import java.util.stream.IntStream;

/**
 * Causal grouped-query self-attention over projected q, k, v: RoPE, then per KV head and block of query
 * positions one gemm for the scores of all the query heads that share the KV head ({@code h / G} maps
 * query head h to its KV head) against the keys that block can see, a causal fp32 softmax (within
 * Mistral's sliding window when it has one), and one gemm against V. Blocking skips most of the masked
 * upper triangle. Keys and values live in a {@link LayerKv}: the queries of a chunk of positions attend to
 * every cached position before them, so a long window can be processed chunk by chunk and a generated
 * token attends to its whole history. Windows never attend to each other.
 */
public final class Attention {
    /** Query positions per score block: the masked work above the diagonal is at most one block wide. */
    static final int QUERY_BLOCK = 128;

    private final int heads, kvHeads, headDim;
    private final float scale;
    private final Rope rope;
    private final NativeWorkspace workspace;
    private final int slidingWindow; // keys a query may see, itself included; MAX_VALUE for full causal attention
    /**
     * Heap scratch of {@link #attendGroup}, kept from call to call like the workspace's native buffers (this class is
     * used by one thread at a time, as its workspace is). At 7B width a window's gathered queries and its score block
     * are 1 MB each, which G1 allocates as humongous objects; allocated afresh for every KV head of every window they
     * were 256 humongous allocations per 4096-row chunk, and the collections they set off ran on the cores sgemm
     * was using.
     */
    private float[] queries = new float[0], probabilities = new float[0], mixedRows = new float[0];

    /** @param workspace native memory for the score and mixing gemms */
    public Attention(ModelConfig c, NativeWorkspace workspace) {
        this.workspace = workspace;
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.rope = Rope.of(c);
        this.slidingWindow = slidingWindow(c);
    }

    /**
     * Mistral's {@code sliding_window}: query t sees keys s with t − s &lt; window. Qwen2 only slides when
     * {@code use_sliding_window} is set, and then only from {@code max_window_layers} on, which this runtime
     * does not model, so such a config is refused rather than run wrongly.
     */
    private static int slidingWindow(ModelConfig c) {
        JsonNode json = c.json();
        if (c.architecture() == Architecture.QWEN2 && json.path("use_sliding_window").asBoolean(false)) {
            throw new CheckpointException(c.source() + ": use_sliding_window is true; zq's runtime supports Qwen2 with full attention only");
        }
        JsonNode w = json.get("sliding_window");
        if (c.architecture() != Architecture.MISTRAL || w == null || w.isNull()) return Integer.MAX_VALUE;
        if (!w.canConvertToInt() || w.asInt() <= 0) {
            throw new CheckpointException(c.source() + ": sliding_window must be a positive integer or null, got " + w);
        }
        return w.asInt();
    }

    public Rope rope() { return rope; }

    /**
     * Attention output {@code [rows × heads·head_dim]} for q {@code [rows × heads·hd]} and k, v
     * {@code [rows × kv_heads·hd]} of whole windows, each starting at position 0; q and k are rotated in place.
     * Each window's keys and values pass through {@code scratch}, which is reset for every window.
     */
    public float[] apply(float[] q, float[] k, float[] v, int[] windowLengths, LayerKv scratch) {
        int rows = 0;
        for (int len : windowLengths) rows += len;
        float[] out = new float[rows * heads * headDim];
        int row0 = 0;
        for (int len : windowLengths) {
            scratch.reset(len);
            apply(q, k, v, row0, len, scratch, out);
            row0 += len;
        }
        return out;
    }

    /**
     * The next {@code n} positions of a sequence whose first {@code cache.length()} positions are cached:
     * rows {@code row0..row0+n-1} of q and k are rotated in place for positions {@code cache.length()…},
     * k and v are appended to the cache, and the attention output of those rows is written to the same rows
     * of {@code out} ({@code heads·head_dim} wide). The same code serves a whole window, a chunk of a long
     * prompt and a single decoded token.
     */
    public void apply(float[] q, float[] k, float[] v, int row0, int n, LayerKv cache, float[] out) {
        int start = cache.length(), end = start + n;
        Rope.Table t = rope.table(end, Math.max(end, cache.ropeLength()));
        rope.rotate(q, row0, n, start, heads, t);
        rope.rotate(k, row0, n, start, kvHeads, t);
        cache.append(k, v, row0, n);
        for (int g = 0; g < kvHeads; g++) attendGroup(q, out, row0, n, start, cache, g);
    }

    /**
     * The query heads of KV head {@code g} for positions {@code [start, start+n)}. Their queries are gathered
     * position-major (row {@code t·G + j} is head {@code gG+j} at position t), so that a block of positions
     * is a block of rows for all G heads at once; each block is multiplied by the cached keys it can see only.
     */
    private void attendGroup(float[] q, float[] out, int row0, int n, int start, LayerKv cache, int g) {
        int group = heads / kvHeads, qWidth = heads * headDim, span = group * headDim, end = start + n;
        float[] gathered = queries = grown(queries, n * span);
        for (int t = 0; t < n; t++) System.arraycopy(q, (row0 + t) * qWidth + g * span, gathered, t * span, span);
        OffHeapMatrix qg = workspace.matrix("attention-q", n * group, headDim);
        qg.write(gathered, 0);
        OffHeapMatrix kg = cache.keys(g, end), vg = cache.values(g, end);
        int blockRows = Math.min(n, QUERY_BLOCK) * group;
        float[] mixed = mixedRows = grown(mixedRows, blockRows * headDim);
        for (int t0 = start; t0 < end; t0 += QUERY_BLOCK) {
            int t1 = Math.min(end, t0 + QUERY_BLOCK);
            int k0 = (int) Math.max(0, (long) t0 - slidingWindow + 1);
            int nq = (t1 - t0) * group, nk = t1 - k0;
            float[] p = probabilities = grown(probabilities, nq * nk);
            OffHeapMatrix scores = workspace.matrix("attention-scores", nq, nk);
            Blas.gemm(scale, qg.view((t0 - start) * group, 0, nq, headDim), false, kg.view(k0, 0, nk, headDim), true, 0f, scores);
            scores.read(p, 0);
            int diagonal = t0 - k0; // the column of the block's first position's own key
            float[] s = p;
            if (nq >= PARALLEL_ROWS) {
                IntStream.range(0, nq).parallel().forEach(r -> causalSoftmax(s, r * nk, nk, diagonal + r / group));
            } else {
                for (int r = 0; r < nq; r++) causalSoftmax(s, r * nk, nk, diagonal + r / group);
            }
            scores.write(p, 0);
            OffHeapMatrix o = workspace.matrix("attention-out", nq, headDim);
            Blas.gemm(1f, scores, false, vg.view(k0, 0, nk, headDim), false, 0f, o);
            o.read(mixed, 0);
            for (int t = t0; t < t1; t++) System.arraycopy(mixed, (t - t0) * span, out, (row0 + t - start) * qWidth + g * span, span);
        }
    }

    /** A buffer of at least {@code size} floats: {@code buffer} itself when it is large enough. */
    private static float[] grown(float[] buffer, int size) {
        return buffer.length >= size ? buffer : new float[size];
    }

    /** Score rows below this are normalised on the calling thread: a decoded token has only G of them. */
    private static final int PARALLEL_ROWS = 64;

    /**
     * Softmax of one row of scaled scores over the keys visible from column {@code position}: those within
     * the sliding window up to it; the others get probability 0.
     */
    private void causalSoftmax(float[] s, int off, int len, int position) {
        int first = (int) Math.max(0, (long) position - slidingWindow + 1);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = first; i <= position; i++) max = Math.max(max, s[off + i]);
        int i0 = VectorSupport.AVAILABLE ? VectorKernels.expShifted(s, off + first, off + position + 1, max) - off : first;
        for (int i = i0; i <= position; i++) s[off + i] = FloatExp.exp(s[off + i] - max);
        double sum = 0;
        for (int i = first; i <= position; i++) sum += s[off + i];
        for (int i = first; i <= position; i++) s[off + i] = (float) (s[off + i] / sum);
        for (int i = 0; i < first; i++) s[off + i] = 0f;
        for (int i = position + 1; i < len; i++) s[off + i] = 0f;
    }
}
