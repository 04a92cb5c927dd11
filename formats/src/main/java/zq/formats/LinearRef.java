package zq.formats;

import zq.formats.gptq.GptqPart;

/**
 * One Linear of a decoder layer: its state-dict prefix (the name without {@code .weight}), role and
 * shape as PyTorch stores it ([out, in]).
 */
public record LinearRef(String prefix, Role role, int outFeatures, int inFeatures, boolean hasBias) {

    /** What a Linear does in the layer; QKV is Zhinao's fused projection. */
    public enum Role { Q, K, V, QKV, O, GATE, UP, DOWN }

    public String weight() { return prefix + ".weight"; }
    public String bias() { return prefix + ".bias"; }
    /** The name of one of the GPTQ tensors that replace {@link #weight()} in a quantized checkpoint. */
    public String part(GptqPart part) { return part.tensor(prefix); }
    public String qweight() { return part(GptqPart.QWEIGHT); }
    public String qzeros() { return part(GptqPart.QZEROS); }
    public String scales() { return part(GptqPart.SCALES); }
    public String gIdx() { return part(GptqPart.G_IDX); }
}
