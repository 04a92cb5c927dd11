package zq.convert.gguf;

import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.runtime.FusedQkv;

/**
 * Which source output row (a row of a dense weight, a column of GPTQ's qweight, an element of a bias)
 * becomes each row of an exported tensor. Two moves compose: taking q, k or v out of Zhinao's fused
 * qkv_proj ({@link FusedQkv}, the runtime's definition of its layout), and llama.cpp's Q/K permutation for
 * the {@code llama} architecture, whose NORM RoPE rotates adjacent pairs (2i, 2i+1) where Hugging Face
 * rotates (i, i + head_dim/2): {@code LlamaModel.permute} in llama.cpp's convert_hf_to_gguf.py.
 */
final class RowOrder {
    private RowOrder() {}

    /** Identity: row r comes from row r. */
    static int[] identity(int rows) {
        int[] r = new int[rows];
        for (int i = 0; i < rows; i++) r[i] = i;
        return r;
    }

    /**
     * Source rows of the exported {@code role} (Q, K or V) taken from a fused qkv_proj, or of a separate
     * projection ({@code fused} false), then permuted for NORM RoPE when {@code permute} (Q and K only).
     */
    static int[] attention(ModelConfig c, LinearRef.Role role, boolean fused, boolean permute) {
        int hd = c.headDim();
        int heads = role == LinearRef.Role.Q ? c.numHeads() : c.numKvHeads();
        FusedQkv layout = new FusedQkv(c.numHeads(), c.numKvHeads(), hd);
        int[] rows = new int[heads * hd];
        for (int h = 0; h < heads; h++) {
            int start = !fused ? h * hd : switch (role) {
                case Q -> layout.qOffset(h);
                case K -> layout.kOffset(h);
                case V -> layout.vOffset(h);
                default -> throw new IllegalArgumentException("not an attention projection: " + role);
            };
            for (int p = 0; p < hd; p++) {
                int inHead = permute && role != LinearRef.Role.V ? (p % 2) * (hd / 2) + p / 2 : p;
                rows[h * hd + p] = start + inHead;
            }
        }
        return rows;
    }
}
