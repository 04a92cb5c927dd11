package zq.runtime;

/**
 * Zhinao's fused {@code qkv_proj} output layout (docs/formats.md, "Fused qkv_proj"): per KV group {@code g}, the blocks
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
}
