package zq.runtime;

import java.util.List;

/**
 * The attention input projection as one matrix with rows in {@code [Q; K; V]} order, whatever the
 * checkpoint's layout: separate q/k/v Linears are stacked, Zhinao's per-KV-group interleaved
 * {@code qkv_proj} is regrouped. A Zhinao model and its Qwen2 conversion therefore run the very
 * same product and give bit-identical logits; one wide gemm is also faster than three narrow ones.
 */
record QkvProjection(float[] weight, float[] bias, int qWidth, int kvWidth, int in) {

    static QkvProjection of(List<Linear> attention, FusedQkv layout) {
        int hd = layout.headDim(), qw = layout.heads() * hd, kw = layout.kvHeads() * hd;
        if (attention.size() == 1) {
            Linear f = attention.get(0);
            int in = f.inFeatures();
            float[] w = new float[f.weight().length];
            float[] b = f.bias() == null ? null : new float[f.bias().length];
            for (int h = 0; h < layout.heads(); h++) copyRows(f, layout.qOffset(h), h * hd, hd, in, w, b);
            for (int g = 0; g < layout.kvHeads(); g++) {
                copyRows(f, layout.kOffset(g), qw + g * hd, hd, in, w, b);
                copyRows(f, layout.vOffset(g), qw + kw + g * hd, hd, in, w, b);
            }
            return new QkvProjection(w, b, qw, kw, in);
        }
        Linear q = attention.get(0), k = attention.get(1), v = attention.get(2);
        int in = q.inFeatures();
        float[] w = new float[(qw + 2 * kw) * in];
        System.arraycopy(q.weight(), 0, w, 0, qw * in);
        System.arraycopy(k.weight(), 0, w, qw * in, kw * in);
        System.arraycopy(v.weight(), 0, w, (qw + kw) * in, kw * in);
        float[] b = null;
        if (q.bias() != null || k.bias() != null || v.bias() != null) {
            b = new float[qw + 2 * kw];
            if (q.bias() != null) System.arraycopy(q.bias(), 0, b, 0, qw);
            if (k.bias() != null) System.arraycopy(k.bias(), 0, b, qw, kw);
            if (v.bias() != null) System.arraycopy(v.bias(), 0, b, qw + kw, kw);
        }
        return new QkvProjection(w, b, qw, kw, in);
    }

    private static void copyRows(Linear f, int fromRow, int toRow, int count, int in, float[] w, float[] b) {
        System.arraycopy(f.weight(), fromRow * in, w, toRow * in, count * in);
        if (b != null) System.arraycopy(f.bias(), fromRow, b, toRow, count);
    }

    int outFeatures() { return qWidth + 2 * kvWidth; }

    /** Splits the product {@code [rows × (q + 2·kv)]} into q, k and v. */
    float[][] split(float[] y, int rows) {
        int w = outFeatures();
        float[] q = new float[rows * qWidth], k = new float[rows * kvWidth], v = new float[rows * kvWidth];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(y, r * w, q, r * qWidth, qWidth);
            System.arraycopy(y, r * w + qWidth, k, r * kvWidth, kvWidth);
            System.arraycopy(y, r * w + qWidth + kvWidth, v, r * kvWidth, kvWidth);
        }
        return new float[][]{q, k, v};
    }
}
