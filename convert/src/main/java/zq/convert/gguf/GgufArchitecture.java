package zq.convert.gguf;

import zq.formats.CheckpointException;
import zq.formats.LayerLayout;
import zq.formats.ModelConfig;

/**
 * The llama.cpp architecture a checkpoint is exported as. Qwen2 and 360Zhinao (Zhinao's fused qkv split
 * into q, k, v) become {@code qwen2}: NEOX RoPE, as Hugging Face computes it, with q/k/v biases. Llama and
 * Mistral become {@code llama} (llama.cpp has no separate Mistral graph): NORM RoPE, so Q and K rows are
 * permuted ({@link RowOrder}). llama.cpp's qwen2 graph loads no attn_output bias, so a Zhinao model with
 * an o_proj bias goes through {@code llama}, whose graph takes every bias.
 */
record GgufArchitecture(String name, boolean permuteQk) {
    static final GgufArchitecture QWEN2 = new GgufArchitecture("qwen2", false);
    static final GgufArchitecture LLAMA = new GgufArchitecture("llama", true);

    static GgufArchitecture of(ModelConfig c, LayerLayout firstLayer) {
        boolean oBias = firstLayer != null && firstLayer.o().hasBias();
        GgufArchitecture a = switch (c.architecture()) {
            case QWEN2 -> QWEN2;
            case ZHINAO -> oBias ? LLAMA : QWEN2;
            case LLAMA, MISTRAL -> LLAMA;
        };
        if (a == QWEN2 && c.mlpBias()) {
            throw new CheckpointException(c.source() + ": mlp_bias is set, but llama.cpp's qwen2 graph has no MLP biases");
        }
        if (a == QWEN2 && c.headDim() * c.numHeads() != c.hiddenSize()) {
            throw new CheckpointException(c.source() + ": head_dim " + c.headDim() + " x " + c.numHeads() + " heads is not hidden_size "
                    + c.hiddenSize() + "; llama.cpp's qwen2 graph assumes it is");
        }
        return a;
    }
}
