package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.FiniteValues;

/** Rows of a 2-D weight read straight from the file, rejecting NaN and infinity as Checkpoint.floats does. */
final class CheckedRows {
    private CheckedRows() {}

    static float[] read(Checkpoint checkpoint, String tensor, long firstRow, int count) {
        float[] v = checkpoint.rows(tensor, firstRow, count); // decoded in parallel chunks by the reader
        int i = FiniteValues.firstNonFinite(v);
        if (i >= 0) {
            int cols = v.length / count;
            throw new CheckpointException(checkpoint.fileOf(tensor).path() + ": tensor '" + tensor + "' has a non-finite value ("
                    + v[i] + ") at row " + (firstRow + i / cols) + ", column " + i % cols);
        }
        return v;
    }
}
