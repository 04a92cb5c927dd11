package zq.validate.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;

import zq.validate.linalg.Blas;
import zq.validate.linalg.OffHeapMatrix;

import java.util.stream.IntStream;

/**
 * Causal grouped-query self-attention over projected q, k, v: RoPE, then for each query head
 * ({@code h / G} maps it to its KV head) and block of query positions, one gemm for the scores against
 * the keys that block can see, a causal fp32 softmax (within Mistral's sliding window when it has one),
 * and one gemm against V. Blocking skips most of the masked upper triangle. Windows never attend to
 * each other.
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
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        int row0 = 0;
        for (int len : windowLengths) {
            Rope.Table t = rope.table(len);
            rope.rotate(q, row0, heads, t);
            rope.rotate(k, row0, kvHeads, t);
            row0 += len;
        }
        OffHeapMatrix qm = workspace.copyIn("attention-q", q, rows, qWidth);
        OffHeapMatrix km = workspace.copyIn("attention-k", k, rows, kvWidth);
        OffHeapMatrix vm = workspace.copyIn("attention-v", v, rows, kvWidth);
        OffHeapMatrix out = workspace.matrix("attention-out", rows, qWidth);
        float[] block = new float[0];
        row0 = 0;
        for (int len : windowLengths) {
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                for (int t0 = 0; t0 < len; t0 += QUERY_BLOCK) {
                    int t1 = Math.min(len, t0 + QUERY_BLOCK);
                    int k0 = (int) Math.max(0, (long) t0 - slidingWindow + 1);
                    int nq = t1 - t0, nk = t1 - k0;
                    OffHeapMatrix scores = workspace.matrix("attention-scores", nq, nk);
                    Blas.gemm(scale, qm.view(row0 + t0, h * headDim, nq, headDim), false,
                            km.view(row0 + k0, g * headDim, nk, headDim), true, 0f, scores);
                    if (block.length < nq * nk) block = new float[QUERY_BLOCK * len];
                    scores.read(block, 0);
                    float[] s = block;
                    int diagonal = t0 - k0; // the column of row 0's own key
                    IntStream.range(0, nq).parallel().forEach(r -> causalSoftmax(s, r * nk, nk, diagonal + r));
                    scores.write(block, 0);
                    Blas.gemm(1f, scores, false, vm.view(row0 + k0, g * headDim, nk, headDim), false, 0f,
                            out.view(row0 + t0, h * headDim, nq, headDim));
                }
            }
            row0 += len;
        }
        return out.toArray();
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
            float e = (float) Math.exp(s[off + i] - max);
            s[off + i] = e;
            sum += e;
        }
        for (int i = first; i <= position; i++) s[off + i] = (float) (s[off + i] / sum);
        for (int i = 0; i < first; i++) s[off + i] = 0f;
        for (int i = position + 1; i < len; i++) s[off + i] = 0f;
    }
}
