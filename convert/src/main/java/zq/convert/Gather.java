package zq.convert;

import zq.formats.CheckpointException;
import zq.formats.DType;

import java.util.List;

/**
 * Where the elements of one output tensor come from. Each source is viewed as {@code rows} rows of
 * equal length; output row r is the concatenation of {@code pattern}'s pieces taken from row r of
 * their sources. A whole-tensor copy is one row with one piece; splitting or interleaving attention
 * heads along an output dimension is a pattern of head-sized pieces.
 */
record Gather(List<TensorRef> sources, long rows, List<Piece> pattern) {

    /** {@code length} elements starting {@code start} elements into a row of source {@code source}. */
    record Piece(int source, long start, long length) {}

    Gather {
        sources = List.copyOf(sources);
        pattern = List.copyOf(pattern);
        DType dt = sources.get(0).info().dtype();
        for (TensorRef s : sources) {
            if (s.info().dtype() != dt) {
                throw new CheckpointException(s.describe() + " is " + s.info().dtype() + " but "
                        + sources.get(0).name() + " is " + dt + "; they must share a dtype to be fused (use --dtype)");
            }
            if (s.info().numel() % rows != 0) {
                throw new IllegalArgumentException(s.name() + " has " + s.info().numel() + " elements, not " + rows + " equal rows");
            }
        }
        for (Piece p : pattern) {
            if (p.start < 0 || p.length <= 0 || p.start + p.length > sources.get(p.source).info().numel() / rows) {
                throw new IllegalArgumentException("piece " + p + " lies outside a row of " + sources.get(p.source).name());
            }
        }
    }

    static Gather whole(TensorRef t) { return new Gather(List.of(t), 1, List.of(new Piece(0, 0, t.info().numel()))); }

    long rowLength(TensorRef source) { return source.info().numel() / rows; }

    DType sourceDtype() { return sources.get(0).info().dtype(); }

    long elements() {
        long perRow = 0;
        for (Piece p : pattern) perRow += p.length;
        return perRow * rows;
    }

    /** True when the output is exactly its single source, in order. */
    boolean isWholeCopy() {
        return sources.size() == 1 && pattern.size() == 1 && pattern.get(0).start == 0
                && pattern.get(0).length * rows == sources.get(0).info().numel();
    }
}
