package zq.formats;

import java.util.List;

/**
 * The tensors of one decoder layer in architecture-neutral terms. {@code attention} holds q, k, v
 * (or Zhinao's single fused qkv); {@link #linears()} lists every Linear in the order a layer computes them
 * (the runtime's {@code InputGroup} groups them by the input they read).
 */
public record LayerLayout(int index, String inputNorm, String postAttentionNorm, List<LinearRef> attention,
                          LinearRef o, LinearRef gate, LinearRef up, LinearRef down) {

    public boolean fusedQkv() { return attention.size() == 1; }

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
