package zq.runtime;

import zq.formats.LayerLayout;
import zq.formats.LinearRef;

import java.util.ArrayList;
import java.util.List;

/**
 * Linears of one layer that read the same input: q/k/v (or the fused qkv), o, up/gate, down. This is the one
 * definition of the groups and their order: the runtime computes a layer group by group ({@link LayerSteps}),
 * and GPTQ accumulates one Hessian per group and, with true-sequential, quantises the groups in this order.
 */
public record InputGroup(int layer, Kind kind, List<LinearRef> linears) {

    /** The groups in the order a layer computes them. */
    public enum Kind {
        /** q, k, v or qkv: the input-normed hidden state. */
        ATTENTION,
        /** o: the attention output (heads concatenated). */
        OUTPUT,
        /** up and gate: the post-attention-normed hidden state. */
        MLP,
        /** down: silu(gate) · up. */
        DOWN;

        /** The group a Linear of this role belongs to. */
        public static Kind of(LinearRef.Role role) {
            return switch (role) {
                case Q, K, V, QKV -> ATTENTION;
                case O -> OUTPUT;
                case UP, GATE -> MLP;
                case DOWN -> DOWN;
            };
        }

        /** True when the group's input is an RMSNorm of the residual stream (cheap to recompute), not a product. */
        public boolean readsNormedResidual() { return this == ATTENTION || this == MLP; }

        /** The group computed just before this one in the same layer, or null for the first. */
        public Kind previous() { return ordinal() == 0 ? null : values()[ordinal() - 1]; }

        /** This group's Linears in {@code layer}, in {@link LayerLayout#linears()} order. */
        public List<LinearRef> linears(LayerLayout layer) {
            List<LinearRef> out = new ArrayList<>();
            for (LinearRef l : layer.linears()) if (of(l.role()) == this) out.add(l);
            return out;
        }
    }

    public InputGroup {
        linears = List.copyOf(linears);
    }

    /** The four groups of {@code layer}, in computation order. */
    public static List<InputGroup> of(LayerLayout layer) {
        List<InputGroup> groups = new ArrayList<>();
        for (Kind k : Kind.values()) groups.add(new InputGroup(layer.index(), k, k.linears(layer)));
        return groups;
    }

    public int inFeatures() { return linears.get(0).inFeatures(); }
}
