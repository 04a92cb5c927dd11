package zq.formats;

import zq.formats.gptq.GptqPart;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps an architecture's tensor names to one internal description: embeddings, the decoder layers
 * and the head. Also says which tensors, with which shapes, a checkpoint of this config must hold.
 */
public record ModelLayout(ModelConfig config, String embedTokens, String finalNorm, String lmHead,
                          List<LayerLayout> layers) {

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    public static ModelLayout of(ModelConfig c) {
        List<LayerLayout> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) layers.add(layer(c, i));
        return new ModelLayout(c, EMBED, NORM, c.tieWordEmbeddings() ? null : LM_HEAD, List.copyOf(layers));
    }

    /** The tensor that projects to the vocabulary: lm_head or, when tied, the embedding. */
    public String outputProjection() { return lmHead != null ? lmHead : embedTokens; }

    private static LayerLayout layer(ModelConfig c, int i) {
        String p = "model.layers." + i + ".";
        int h = c.hiddenSize(), hd = c.headDim(), q = c.numHeads() * hd, kv = c.numKvHeads() * hd, im = c.intermediateSize();
        List<LinearRef> attn;
        boolean oBias;
        switch (c.architecture()) {
            case ZHINAO -> {
                attn = List.of(new LinearRef(p + "self_attn.qkv_proj", LinearRef.Role.QKV, q + 2 * kv, h, true));
                oBias = c.attentionBias();
            }
            case QWEN2 -> {
                attn = qkv(p, q, kv, h, true);
                oBias = false;
            }
            case LLAMA -> {
                attn = qkv(p, q, kv, h, c.attentionBias());
                oBias = c.attentionBias();
            }
            default -> {
                attn = qkv(p, q, kv, h, false);
                oBias = false;
            }
        }
        boolean mb = c.mlpBias();
        return new LayerLayout(i, p + "input_layernorm.weight", p + "post_attention_layernorm.weight", attn,
                new LinearRef(p + "self_attn.o_proj", LinearRef.Role.O, h, q, oBias),
                new LinearRef(p + "mlp.gate_proj", LinearRef.Role.GATE, im, h, mb),
                new LinearRef(p + "mlp.up_proj", LinearRef.Role.UP, im, h, mb),
                new LinearRef(p + "mlp.down_proj", LinearRef.Role.DOWN, h, im, mb));
    }

    private static List<LinearRef> qkv(String p, int q, int kv, int h, boolean bias) {
        return List.of(new LinearRef(p + "self_attn.q_proj", LinearRef.Role.Q, q, h, bias),
                new LinearRef(p + "self_attn.k_proj", LinearRef.Role.K, kv, h, bias),
                new LinearRef(p + "self_attn.v_proj", LinearRef.Role.V, kv, h, bias));
    }

    /** Number of quantization groups along a Linear's input for a group size (−1: one group). */
    public static int groups(int inFeatures, int groupSize) {
        return groupSize <= 0 ? 1 : (inFeatures + groupSize - 1) / groupSize;
    }

    /**
     * Every tensor a checkpoint of this config must contain, with its shape. Linears appear as
     * {@code .weight} for a dense checkpoint and as {@code qweight/qzeros/scales/g_idx} for GPTQ.
     */
    public Map<String, long[]> expectedTensors() { return tensors(config.quantization()); }

    /** The tensors of the dense model this config describes, whether or not its checkpoint is quantized. */
    public Map<String, long[]> denseTensors() { return tensors(null); }

    private Map<String, long[]> tensors(QuantizationConfig qc) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int h = config.hiddenSize(), v = config.vocabSize();
        m.put(embedTokens, new long[]{v, h});
        for (LayerLayout l : layers) {
            m.put(l.inputNorm(), new long[]{h});
            for (LinearRef lin : l.linears()) {
                if (qc == null) {
                    m.put(lin.weight(), new long[]{lin.outFeatures(), lin.inFeatures()});
                } else {
                    int g = groups(lin.inFeatures(), qc.groupSize());
                    for (GptqPart p : GptqPart.values()) m.put(lin.part(p), p.shape(lin.inFeatures(), lin.outFeatures(), g));
                }
                if (lin.hasBias()) m.put(lin.bias(), new long[]{lin.outFeatures()});
            }
            m.put(l.postAttentionNorm(), new long[]{h});
        }
        m.put(finalNorm, new long[]{h});
        if (lmHead != null) m.put(lmHead, new long[]{v, h});
        return m;
    }
}
