package zq.convert;

import zq.formats.ModelConfig;
import zq.runtime.FusedQkv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Moves attention heads between Zhinao's fused qkv_proj and Qwen2's q_proj, k_proj, v_proj as
 * head-sized pieces of bytes, so values are never altered. Where each head sits in the fused
 * dimension comes from the runtime's {@link FusedQkv} (docs/formats.md, "Fused qkv_proj"), the one definition of it.
 *
 * <p>A tensor is described by its shape and the index of its output dimension: dense weights
 * {@code [out, in]} and biases {@code [out]} split dimension 0; GPTQ {@code qweight [in/8, out]},
 * {@code scales [groups, out]} and {@code qzeros [groups, out/8]} split dimension 1.
 */
final class QkvRegrouping {
    private final FusedQkv layout;

    QkvRegrouping(ModelConfig c) { this.layout = new FusedQkv(c.numHeads(), c.numKvHeads(), c.headDim()); }

    private int qBlock(int h) { return layout.qOffset(h) / layout.headDim(); }

    private int kBlock(int g) { return layout.kOffset(g) / layout.headDim(); }

    private int vBlock(int g) { return layout.vOffset(g) / layout.headDim(); }

    private int fusedHeads() { return layout.heads() + 2 * layout.kvHeads(); }

    /** [q, k, v] gathers taken from a fused tensor, split along {@code dim}. */
    List<Gather> split(TensorRef fused, int dim) {
        long[] shape = fused.info().shape();
        long rows = rows(shape, dim), unit = headUnit(shape, dim, fusedHeads());
        List<Gather.Piece> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>();
        for (int h = 0; h < layout.heads(); h++) q.add(new Gather.Piece(0, qBlock(h) * unit, unit));
        for (int g = 0; g < layout.kvHeads(); g++) {
            k.add(new Gather.Piece(0, kBlock(g) * unit, unit));
            v.add(new Gather.Piece(0, vBlock(g) * unit, unit));
        }
        return List.of(new Gather(List.of(fused), rows, q), new Gather(List.of(fused), rows, k),
                new Gather(List.of(fused), rows, v));
    }

    /** The fused gather interleaving {@code q}, {@code k} and {@code v} along {@code dim}. */
    Gather merge(TensorRef q, TensorRef k, TensorRef v, int dim) {
        long[] shape = q.info().shape();
        long rows = rows(shape, dim), unit = headUnit(shape, dim, layout.heads());
        Gather.Piece[] blocks = new Gather.Piece[fusedHeads()];
        for (int h = 0; h < layout.heads(); h++) blocks[qBlock(h)] = new Gather.Piece(0, h * unit, unit);
        for (int g = 0; g < layout.kvHeads(); g++) {
            blocks[kBlock(g)] = new Gather.Piece(1, g * unit, unit);
            blocks[vBlock(g)] = new Gather.Piece(2, g * unit, unit);
        }
        return new Gather(List.of(q, k, v), rows, Arrays.asList(blocks));
    }

    /** Shapes of the split tensors: the fused shape with its output dimension cut to heads, KV heads, KV heads. */
    List<long[]> splitShapes(long[] fused, int dim) {
        long head = fused[dim] / fusedHeads();
        long[] kv = withDim(fused, dim, layout.kvHeads() * head);
        return List.of(withDim(fused, dim, layout.heads() * head), kv, kv.clone());
    }

    long[] mergedShape(long[] q, int dim) { return withDim(q, dim, q[dim] / layout.heads() * fusedHeads()); }

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
        if (shape[dim] % headsInTensor != 0) {
            throw new IllegalArgumentException("output dimension " + shape[dim] + " is not a multiple of " + headsInTensor + " heads");
        }
        long inner = 1;
        for (int i = dim; i < shape.length; i++) inner *= shape[i];
        return inner / headsInTensor;
    }
}
