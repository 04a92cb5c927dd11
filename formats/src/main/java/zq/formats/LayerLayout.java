package zq.formats;

import java.util.List;

/**
 * The tensors of one decoder layer in architecture-neutral terms. {@code attention} holds q, k, v
 * (or Zhinao's single fused qkv); {@link #linears()} lists every Linear in AutoGPTQ's true-sequential
 * order.
 */
public record LayerLayout(int index, String inputNorm, String postAttentionNorm, List<LinearRef> attention,
                          LinearRef o, LinearRef gate, LinearRef up, LinearRef down) {

    public boolean fusedQkv() { return attention.size() == 1; }

    /** [q,k,v] or [qkv], [o], [up, gate], [down]: the subsets GPTQ quantizes one after another. */
    public List<List<LinearRef>> sequentialGroups() {
        return List.of(attention, List.of(o), List.of(up, gate), List.of(down));
    }

    public List<LinearRef> linears() {
        List<LinearRef> all = new java.util.ArrayList<>(attention);
        all.add(o);
        all.add(up);
        all.add(gate);
        all.add(down);
        return all;
    }

    public LinearRef linear(LinearRef.Role role) {
        for (LinearRef l : linears()) if (l.role() == role) return l;
        return null;
    }
}
