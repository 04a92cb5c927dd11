package zq.formats;

import java.util.stream.IntStream;

/** Finds NaN and infinity in decoded tensors, in parallel pieces: one 7B-wide layer has 200 million values to check. */
public final class FiniteValues {
    private FiniteValues() {}

    private static final int PIECE = 1 << 20;

    /** The index of the first NaN or infinity in {@code v}, or -1 when every value is finite. */
    public static int firstNonFinite(float[] v) {
        int pieces = (v.length + PIECE - 1) / PIECE;
        int first = IntStream.range(0, pieces).parallel().map(p -> {
            for (int i = p * PIECE, end = Math.min(v.length, i + PIECE); i < end; i++) {
                if (!Float.isFinite(v[i])) return i;
            }
            return Integer.MAX_VALUE;
        }).min().orElse(Integer.MAX_VALUE);
        return first == Integer.MAX_VALUE ? -1 : first;
    }
}
