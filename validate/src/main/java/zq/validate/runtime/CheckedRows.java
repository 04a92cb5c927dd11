package zq.validate.runtime;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;

import java.util.stream.IntStream;

/** Rows of a 2-D weight read straight from the mapped file, rejecting NaN and infinity as Checkpoint.floats does. */
final class CheckedRows {
    private CheckedRows() {}

    /** Rows per piece decoded in parallel: decoding is single-threaded per call. */
    private static final int PIECE_ROWS = 256;

    static float[] read(Checkpoint checkpoint, String tensor, long firstRow, int count) {
        float[] v;
        if (count <= PIECE_ROWS) {
            v = checkpoint.rows(tensor, firstRow, count);
        } else {
            int cols = (int) checkpoint.info(tensor).shape()[1];
            float[] all = new float[Math.multiplyExact(count, cols)];
            IntStream.range(0, (count + PIECE_ROWS - 1) / PIECE_ROWS).parallel().forEach(p -> {
                int n = Math.min(PIECE_ROWS, count - p * PIECE_ROWS);
                float[] piece = checkpoint.rows(tensor, firstRow + (long) p * PIECE_ROWS, n);
                System.arraycopy(piece, 0, all, p * PIECE_ROWS * cols, piece.length);
            });
            v = all;
        }
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                int cols = v.length / count;
                throw new CheckpointException(checkpoint.fileOf(tensor).path() + ": tensor '" + tensor + "' has a non-finite value ("
                        + v[i] + ") at row " + (firstRow + i / cols) + ", column " + i % cols);
            }
        }
        return v;
    }
}
