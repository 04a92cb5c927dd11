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
 * upper triangle. Windows never attend to each other.
 */
public final class Attention {
    /** Query positions per score block: the masked work above the diagonal is at most one block wide. */
    static final int QUERY_BLOCK = 128;

    private final int heads, kvHeads, headDim;
    private final float scale;
    private final Rope rope;
    private final NativeWorkspace workspace;
    private final int slidingWindow; // keys a query may see, itself included; MAX_VALUE for full causal attention

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
     * {@code [rows × kv_heads·hd]}; q and k are rotated in place.
     */
    public float[] apply(float[] q, float[] k, float[] v, int[] windowLengths) {
        int rows = 0;
        for (int len : windowLengths) rows += len;
        int row0 = 0;
        for (int len : windowLengths) {
            Rope.Table t = rope.table(len);
            rope.rotate(q, row0, heads, t);
            rope.rotate(k, row0, kvHeads, t);
            row0 += len;
        }
        float[] out = new float[rows * heads * headDim];
        row0 = 0;
        for (int len : windowLengths) {
            for (int g = 0; g < kvHeads; g++) attendGroup(q, k, v, out, row0, len, g);
            row0 += len;
        }
        return out;
    }

    /**
     * The query heads of KV head {@code g} over one window. Their queries are gathered position-major
     * (row {@code t·G + j} is head {@code gG+j} at position t), so that a block of positions is a block
     * of rows for all G heads at once; each block is multiplied by the keys it can see only.
     */
    private void attendGroup(float[] q, float[] k, float[] v, float[] out, int row0, int len, int g) {
        int group = heads / kvHeads, qWidth = heads * headDim, kvWidth = kvHeads * headDim, span = group * headDim;
        float[] gathered = new float[len * span];
        for (int t = 0; t < len; t++) System.arraycopy(q, (row0 + t) * qWidth + g * span, gathered, t * span, span);
        OffHeapMatrix qg = workspace.copyIn("attention-q", gathered, len * group, headDim);
        OffHeapMatrix kg = workspace.copyIn("attention-k", columns(k, row0, len, kvWidth, g * headDim), len, headDim);
        OffHeapMatrix vg = workspace.copyIn("attention-v", columns(v, row0, len, kvWidth, g * headDim), len, headDim);
        int blockRows = Math.min(len, QUERY_BLOCK) * group;
        float[] p = new float[blockRows * len], mixed = new float[blockRows * headDim];
        for (int t0 = 0; t0 < len; t0 += QUERY_BLOCK) {
            int t1 = Math.min(len, t0 + QUERY_BLOCK);
            int k0 = (int) Math.max(0, (long) t0 - slidingWindow + 1);
            int nq = (t1 - t0) * group, nk = t1 - k0;
            OffHeapMatrix scores = workspace.matrix("attention-scores", nq, nk);
            Blas.gemm(scale, qg.view(t0 * group, 0, nq, headDim), false, kg.view(k0, 0, nk, headDim), true, 0f, scores);
            scores.read(p, 0);
            int diagonal = t0 - k0; // the column of the block's first position's own key
            IntStream.range(0, nq).parallel().forEach(r -> causalSoftmax(p, r * nk, nk, diagonal + r / group));
            scores.write(p, 0);
            OffHeapMatrix o = workspace.matrix("attention-out", nq, headDim);
            Blas.gemm(1f, scores, false, vg.view(k0, 0, nk, headDim), false, 0f, o);
            o.read(mixed, 0);
            for (int t = t0; t < t1; t++) System.arraycopy(mixed, (t - t0) * span, out, (row0 + t) * qWidth + g * span, span);
        }
    }

    /** One head's columns of a window's rows, contiguous {@code [len × head_dim]}. */
    private float[] columns(float[] x, int row0, int len, int width, int col) {
        float[] out = new float[len * headDim];
        for (int t = 0; t < len; t++) System.arraycopy(x, (row0 + t) * width + col, out, t * headDim, headDim);
        return out;
    }

    /**
     * Softmax of one row of scaled scores over the keys visible from column {@code position}: those within
     * the sliding window up to it; the others get probability 0.
     */
    private void causalSoftmax(float[] s, int off, int len, int position) {
        int first = (int) Math.max(0, (long) position - slidingWindow + 1);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = first; i <= position; i++) max = Math.max(max, s[off + i]);
        double sum = 0;
        for (int i = first; i <= position; i++) {
            float e = FloatExp.exp(s[off + i] - max);
            s[off + i] = e;
            sum += e;
        }
        for (int i = first; i <= position; i++) s[off + i] = (float) (s[off + i] / sum);
        for (int i = 0; i < first; i++) s[off + i] = 0f;
        for (int i = position + 1; i < len; i++) s[off + i] = 0f;
    }
}
