package zq.convert;

import zq.formats.DType;
import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * Converts little-endian floating-point elements from one dtype to another with one correct
 * round-to-nearest-even, and counts the finite values that overflow to infinity.
 */
final class FloatConversion {
    private FloatConversion() {}

    /**
     * Reads {@code count} elements of {@code from} at {@code src}'s position, writes them as {@code to}
     * ({@link #isTarget}) at {@code dst}'s position (both advance) and returns how many finite inputs became infinite.
     */
    static long convert(ByteBuffer src, DType from, ByteBuffer dst, DType to, int count) {
        if (!from.isFloatingPoint()) throw new IllegalArgumentException(from + " is not a floating-point dtype");
        if (!isTarget(to)) throw new IllegalArgumentException("cannot convert to " + to + " (bf16, f16 or f32 only)");
        long overflows = 0;
        if (from == DType.F64) {
            for (int i = 0; i < count; i++) {
                double d = src.getDouble();
                boolean inf = putDouble(dst, to, d);
                if (inf && Double.isFinite(d)) overflows++;
            }
        } else {
            for (int i = 0; i < count; i++) {
                float f = getFloat(src, from);
                boolean inf = putFloat(dst, to, f);
                if (inf && Float.isFinite(f)) overflows++;
            }
        }
        return overflows;
    }

    /** The dtypes a checkpoint can be converted to. */
    static boolean isTarget(DType t) { return t == DType.BF16 || t == DType.F16 || t == DType.F32; }

    /** Every bf16, f16 and f32 value is exactly a float, so decoding loses nothing. */
    private static float getFloat(ByteBuffer src, DType from) {
        return switch (from) {
            case F32 -> src.getFloat();
            case BF16 -> HalfFloats.bf16ToFloat(src.getShort());
            case F16 -> HalfFloats.f16ToFloat(src.getShort());
            default -> throw new IllegalArgumentException(from.toString());
        };
    }

    /** Writes {@code f} as {@code to}; returns whether the written value is infinite. */
    private static boolean putFloat(ByteBuffer dst, DType to, float f) {
        switch (to) {
            case F32 -> { dst.putFloat(f); return Float.isInfinite(f); }
            case BF16 -> {
                short h = HalfFloats.floatToBf16(f);
                dst.putShort(h);
                return (h & 0x7FFF) == 0x7F80;
            }
            case F16 -> {
                short h = HalfFloats.floatToF16(f);
                dst.putShort(h);
                return (h & 0x7FFF) == 0x7C00;
            }
            default -> throw new IllegalArgumentException(to.toString());
        }
    }

    private static boolean putDouble(ByteBuffer dst, DType to, double d) {
        // the cast to float rounds to nearest even; narrower targets go through round-to-odd
        return putFloat(dst, to, to == DType.F32 ? (float) d : roundToOdd(d));
    }

    /**
     * Rounds a double to float by truncation, setting the last bit when inexact ("round to odd").
     * Rounding that float again to nearest-even at 11 bits or fewer gives the same result as rounding
     * the double directly, since float keeps at least two more bits; a plain (float) cast would round
     * twice and break ties that the double resolves.
     */
    static float roundToOdd(double d) {
        float f = (float) d;
        if (Double.isNaN(d) || (double) f == d) return f;
        if (Float.isInfinite(f)) return Math.copySign(Float.MAX_VALUE, f);
        if (Math.abs((double) f) > Math.abs(d)) f = Math.nextAfter(f, 0.0);
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }
}
