package zq.validate.runtime;

/**
 * Zhinao's fused {@code qkv_proj} output layout (formats.md §1.5): per KV group {@code g}, the blocks
 * {@code [q_{gG}, …, q_{gG+G−1}, k_g, v_g]} of {@code head_dim} each, with {@code G = heads / kv_heads}.
 * The same offsets index the rows of the fused weight and bias.
 */
public record FusedQkv(int heads, int kvHeads, int headDim) {

    public FusedQkv {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
    }

    /** Query heads per KV head. */
    public int group() { return heads / kvHeads; }

    /** Width of the fused projection: {@code (heads + 2·kv_heads)·head_dim}. */
    public int width() { return (heads + 2 * kvHeads) * headDim; }

    /** Where query head {@code h} starts in the fused dimension. */
    public int qOffset(int h) {
        int g = h / group(), j = h % group();
        return (g * (group() + 2) + j) * headDim;
    }

    public int kOffset(int kvHead) { return (kvHead * (group() + 2) + group()) * headDim; }

    public int vOffset(int kvHead) { return (kvHead * (group() + 2) + group() + 1) * headDim; }

    /** Splits fused rows {@code [rows × width]} into q {@code [rows × heads·hd]}, k and v {@code [rows × kv_heads·hd]}. */
    public float[][] split(float[] fused, int rows) {
        if (fused.length != (long) rows * width()) {
            throw new IllegalArgumentException("fused qkv has " + fused.length + " values, expected " + rows + "×" + width());
        }
        int w = width(), qw = heads * headDim, kw = kvHeads * headDim;
        float[] q = new float[rows * qw], k = new float[rows * kw], v = new float[rows * kw];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) System.arraycopy(fused, r * w + qOffset(h), q, r * qw + h * headDim, headDim);
            for (int g = 0; g < kvHeads; g++) {
                System.arraycopy(fused, r * w + kOffset(g), k, r * kw + g * headDim, headDim);
                System.arraycopy(fused, r * w + vOffset(g), v, r * kw + g * headDim, headDim);
            }
        }
        return new float[][]{q, k, v};
    }
}
