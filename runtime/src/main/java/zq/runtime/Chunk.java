package zq.runtime;

/**
 * Rows laid back to back so that each Linear runs on all of them as one gemm: {@code x} is their residual
 * stream, row-major {@code [rows × hidden]}, which a layer's steps update in place; {@code lengths} are the
 * windows' rows in order. See {@link DecoderLayer#chunks}.
 * <p>
 * Without a {@code cache}, the chunk holds whole windows, each starting at position 0. With one, it holds the
 * single run of positions {@code [start, start+rows)} of a longer sequence whose earlier positions are in
 * {@code cache} (a piece of a long window, or of a prompt being prefilled); {@code sequenceLength} is what RoPE
 * is built for when the cache starts over at position 0.
 */
public record Chunk(float[] x, int[] lengths, LayerKv cache, int start, int sequenceLength) {

    /** Whole windows, each from position 0. */
    public Chunk(float[] x, int[] lengths) { this(x, lengths, null, 0, 0); }

    public Chunk {
        int rows = 0;
        for (int len : lengths) {
            if (len <= 0) throw new IllegalArgumentException("window lengths must be positive");
            rows += len;
        }
        if (rows == 0 || x.length % rows != 0) {
            throw new IllegalArgumentException("chunk of " + x.length + " values is not a whole number of rows for windows of " + rows + " rows");
        }
        if (cache != null && (lengths.length != 1 || start < 0)) {
            throw new IllegalArgumentException("a chunk with a cache holds one run of positions from a start ≥ 0");
        }
    }

    public int rows() {
        int rows = 0;
        for (int len : lengths) rows += len;
        return rows;
    }

    /** True for a later piece of a window cut into several chunks. */
    public boolean continuesWindow() { return cache != null && start > 0; }

    /** A chunk over a copy of the residual stream, for a pass whose outputs are thrown away. */
    public Chunk copy() { return new Chunk(x.clone(), lengths.clone(), cache, start, sequenceLength); }
}
