package zq.runtime;

import zq.formats.LinearRef;

import java.util.List;

/**
 * Linears of one layer that read the same input: q/k/v (or the fused qkv), o, gate/up, down. A GPTQ
 * pass accumulates one Hessian per group from the inputs it observes.
 */
public record InputGroup(int layer, Kind kind, List<LinearRef> linears) {

    public enum Kind {
        /** q, k, v or qkv: the input-normed hidden state. */
        ATTENTION,
        /** o: the attention output (heads concatenated). */
        OUTPUT,
        /** gate and up: the post-attention-normed hidden state. */
        MLP,
        /** down: silu(gate) · up. */
        DOWN
    }

    public InputGroup {
        linears = List.copyOf(linears);
    }

    public int inFeatures() { return linears.get(0).inFeatures(); }
}
