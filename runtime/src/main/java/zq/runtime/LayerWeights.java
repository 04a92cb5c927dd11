package zq.runtime;

import zq.formats.LayerLayout;
import zq.formats.LinearRef;

import java.util.ArrayList;
import java.util.List;

/**
 * The weights of one decoder layer as dense fp32. {@code attention} holds q, k, v, or Zhinao's single
 * fused qkv, in the order of {@link LayerLayout#attention()}.
 */
public record LayerWeights(LayerLayout layout, float[] inputNorm, float[] postAttentionNorm, List<Linear> attention,
                           Linear o, Linear gate, Linear up, Linear down) {

    public LayerWeights {
        attention = List.copyOf(attention);
    }

    public int index() { return layout.index(); }

    /** Every Linear, in {@link LayerLayout#linears()} order. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attention);
        all.add(o);
        all.add(up);
        all.add(gate);
        all.add(down);
        return all;
    }

    public Linear linear(LinearRef.Role role) {
        for (Linear l : linears()) if (l.ref().role() == role) return l;
        throw new IllegalArgumentException("layer " + index() + " has no " + role + " Linear");
    }

    /** A copy of these weights in which the Linear of {@code role} has {@code newWeight} (its bias is kept). */
    public LayerWeights withWeight(LinearRef.Role role, float[] newWeight) {
        Linear old = linear(role);
        Linear replaced = old.withWeight(newWeight);
        List<Linear> attn = new ArrayList<>(attention);
        attn.replaceAll(l -> l == old ? replaced : l);
        return new LayerWeights(layout, inputNorm, postAttentionNorm, attn,
                o == old ? replaced : o, gate == old ? replaced : gate, up == old ? replaced : up,
                down == old ? replaced : down);
    }
}
