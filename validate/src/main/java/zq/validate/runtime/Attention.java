package zq.validate.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;

import java.util.stream.IntStream;

/**
 * Causal grouped-query self-attention over projected q, k, v: RoPE, then per KV head one gemm for the
 * scores of all the query heads that share it ({@code h / G} maps query head h to its KV head), a
 * causal fp32 softmax (within Mistral's sliding window when it has one), and one gemm against V.
 * Windows never attend to each other.
 */
public final class Attention {
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
        float[] out = new float[rows * heads * headDim];
        int row0 = 0;
        for (int len : windowLengths) {
            Rope.Table t = rope.table(len);
            rope.rotate(q, row0, heads, t);
            rope.rotate(k, row0, kvHeads, t);
            for (int g = 0; g < kvHeads; g++) attendGroup(q, k, v, out, row0, len, g);
            row0 += len;
        }
        return out;
    }

    private void attendGroup(float[] q, float[] k, float[] v, float[] out, int row0, int len, int g) {
        int group = heads / kvHeads, qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        float[] kg = gather(k, row0, len, kvWidth, g * headDim);
        float[] vg = gather(v, row0, len, kvWidth, g * headDim);
        float[] qg = new float[group * len * headDim];
        for (int j = 0; j < group; j++) {
            int h = g * group + j;
            for (int t = 0; t < len; t++) {
                System.arraycopy(q, (row0 + t) * qWidth + h * headDim, qg, (j * len + t) * headDim, headDim);
            }
        }
        float[] scores = workspace.gemm(qg, group * len, headDim, kg, len, true);
        IntStream.range(0, group * len).parallel().forEach(r -> causalSoftmax(scores, r * len, len, r % len));
        float[] mixed = workspace.gemm(scores, group * len, len, vg, headDim, false);
        for (int j = 0; j < group; j++) {
            int h = g * group + j;
            for (int t = 0; t < len; t++) {
                System.arraycopy(mixed, (j * len + t) * headDim, out, (row0 + t) * qWidth + h * headDim, headDim);
            }
        }
    }

    /** One head's columns of a window's rows, contiguous {@code [len × head_dim]} for the gemm. */
    private float[] gather(float[] x, int row0, int len, int width, int col) {
        float[] out = new float[len * headDim];
        for (int t = 0; t < len; t++) System.arraycopy(x, (row0 + t) * width + col, out, t * headDim, headDim);
        return out;
    }

    /** Scaled softmax of one score row over the keys {@code position} may see; the others get probability 0. */
    private void causalSoftmax(float[] s, int off, int len, int position) {
        int first = (int) Math.max(0, (long) position - slidingWindow + 1);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = first; i <= position; i++) {
            s[off + i] *= scale;
            max = Math.max(max, s[off + i]);
        }
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
