package zq.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /**
     * The index of the first NaN or infinity among the little-endian {@code dtype} values from {@code raw}'s position
     * to its limit, or -1. Tested on the exponent bits (all ones), so nothing is decoded, and in parallel pieces: a
     * byte copy checks what it copies without falling far below its copy rate.
     */
    public static long firstNonFinite(ByteBuffer raw, DType dtype) {
        if (!dtype.isFloatingPoint()) return -1;
        ByteBuffer b = raw.slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = b.remaining() / dtype.bytes();
        int pieces = (n + PIECE - 1) / PIECE;
        IntStream ps = IntStream.range(0, pieces);
        int first = (pieces > 1 ? ps.parallel() : ps).map(p -> {
            int from = p * PIECE, to = Math.min(n, from + PIECE);
            int i = firstNonFinite(b, dtype, from, to);
            return i < 0 ? Integer.MAX_VALUE : i;
        }).min().orElse(Integer.MAX_VALUE);
        return first == Integer.MAX_VALUE ? -1 : first;
    }

    private static int firstNonFinite(ByteBuffer b, DType dtype, int from, int to) {
        switch (dtype) {
            case F16, BF16 -> {
                int exp = dtype == DType.F16 ? 0x7C00 : 0x7F80;
                for (int i = from; i < to; i++) if ((b.getShort(2 * i) & exp) == exp) return i;
            }
            case F32 -> {
                for (int i = from; i < to; i++) if ((b.getInt(4 * i) & 0x7F800000) == 0x7F800000) return i;
            }
            case F64 -> {
                for (int i = from; i < to; i++) if ((b.getLong(8 * i) & 0x7FF0000000000000L) == 0x7FF0000000000000L) return i;
            }
            default -> { }
        }
        return -1;
    }
}
