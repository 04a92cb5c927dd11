package zq.runtime;

/**
 * Windows laid back to back so that each Linear runs on all of them as one gemm: {@code x} is their residual
 * stream, row-major {@code [rows × hidden]}, which a layer's steps update in place; {@code lengths} are the
 * windows' rows in order. See {@link DecoderLayer#chunks}.
 */
public record Chunk(float[] x, int[] lengths) {

    public Chunk {
        int rows = 0;
        for (int len : lengths) {
            if (len <= 0) throw new IllegalArgumentException("window lengths must be positive");
            rows += len;
        }
        if (rows == 0 || x.length % rows != 0) {
            throw new IllegalArgumentException("chunk of " + x.length + " values is not a whole number of rows for windows of " + rows + " rows");
        }
    }

    public int rows() {
        int rows = 0;
        for (int len : lengths) rows += len;
        return rows;
    }

    /** A chunk over a copy of the residual stream, for a pass whose outputs are thrown away. */
    public Chunk copy() { return new Chunk(x.clone(), lengths.clone()); }
}
