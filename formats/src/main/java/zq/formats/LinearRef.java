package zq.formats;

/**
 * One Linear of a decoder layer: its state-dict prefix (the name without {@code .weight}), role and
 * shape as PyTorch stores it ([out, in]).
 */
public record LinearRef(String prefix, Role role, int outFeatures, int inFeatures, boolean hasBias) {

    /** What a Linear does in the layer; QKV is Zhinao's fused projection. */
    public enum Role { Q, K, V, QKV, O, GATE, UP, DOWN }

    public String weight() { return prefix + ".weight"; }
    public String bias() { return prefix + ".bias"; }
    public String qweight() { return prefix + ".qweight"; }
    public String qzeros() { return prefix + ".qzeros"; }
    public String scales() { return prefix + ".scales"; }
    public String gIdx() { return prefix + ".g_idx"; }
}
