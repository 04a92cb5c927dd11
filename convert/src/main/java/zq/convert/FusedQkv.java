package zq.convert;

import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Zhinao's fused qkv_proj layout (formats.md §1.5): along the output dimension, per KV group g,
 * {@code [q_{gG} .. q_{gG+G-1}, k_g, v_g]} with G = heads / KV heads, one head-sized block each.
 * Splitting gives Qwen2's q_proj, k_proj, v_proj; {@link #merge} interleaves them back. Both are
 * pure rearrangements of head-sized pieces, so bytes are never altered.
 *
 * <p>A tensor is described by its shape and the index of its output dimension: dense weights
 * {@code [out, in]} and biases {@code [out]} split dimension 0; GPTQ {@code qweight [in/8, out]},
 * {@code scales [groups, out]} and {@code qzeros [groups, out/8]} split dimension 1.
 */
final class FusedQkv {
    private final int heads, kvHeads, perGroup;

    FusedQkv(ModelConfig c) {
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.perGroup = c.groupSize();
    }

    /** [q, k, v] gathers taken from a fused tensor of shape {@code shape}, split along {@code dim}. */
    List<Gather> split(TensorRef fused, int dim) {
        long[] shape = fused.info().shape();
        long rows = rows(shape, dim), head = headUnit(shape, dim, heads + 2 * kvHeads);
        List<Gather.Piece> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>();
        for (int g = 0; g < kvHeads; g++) {
            long base = (long) g * (perGroup + 2) * head;
            q.add(new Gather.Piece(0, base, perGroup * head));
            k.add(new Gather.Piece(0, base + perGroup * head, head));
            v.add(new Gather.Piece(0, base + (perGroup + 1) * head, head));
        }
        return List.of(new Gather(List.of(fused), rows, q), new Gather(List.of(fused), rows, k),
                new Gather(List.of(fused), rows, v));
    }

    /** The fused gather interleaving {@code q}, {@code k} and {@code v} along {@code dim}. */
    Gather merge(TensorRef q, TensorRef k, TensorRef v, int dim) {
        long[] shape = q.info().shape();
        long rows = rows(shape, dim), head = headUnit(shape, dim, heads);
        List<Gather.Piece> pattern = new ArrayList<>();
        for (int g = 0; g < kvHeads; g++) {
            pattern.add(new Gather.Piece(0, (long) g * perGroup * head, perGroup * head));
            pattern.add(new Gather.Piece(1, g * head, head));
            pattern.add(new Gather.Piece(2, g * head, head));
        }
        return new Gather(List.of(q, k, v), rows, pattern);
    }

    /** Shapes of the split tensors: the fused shape with its output dimension cut to heads, KV heads, KV heads. */
    List<long[]> splitShapes(long[] fused, int dim) {
        long head = fused[dim] / (heads + 2 * kvHeads);
        return List.of(withDim(fused, dim, heads * head), withDim(fused, dim, kvHeads * head), withDim(fused, dim, kvHeads * head));
    }

    long[] mergedShape(long[] q, int dim) { return withDim(q, dim, q[dim] / heads * (heads + 2 * kvHeads)); }

    private static long[] withDim(long[] shape, int dim, long size) {
        long[] s = Arrays.copyOf(shape, shape.length);
        s[dim] = size;
        return s;
    }

    /** Rows are everything before the output dimension. */
    private static long rows(long[] shape, int dim) {
        long r = 1;
        for (int i = 0; i < dim; i++) r *= shape[i];
        return r;
    }

    /** Elements of one head within a row: the output dimension and everything after it, per head. */
    private static long headUnit(long[] shape, int dim, int headsInTensor) {
        long inner = 1;
        for (int i = dim; i < shape.length; i++) inner *= shape[i];
        if (shape[dim] % headsInTensor != 0) {
            throw new IllegalArgumentException("output dimension " + shape[dim] + " is not a multiple of " + headsInTensor + " heads");
        }
        return inner / headsInTensor;
    }
}
