package zq.convert;

import zq.formats.DType;
import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * Converts little-endian floating-point elements from one dtype to another with one correct
 * round-to-nearest-even, and counts the finite values that overflow to infinity. Elements move
 * through small arrays in bulk, which the JIT turns into tight loops.
 */
final class FloatConversion {
    private FloatConversion() {}

    private static final int CHUNK = 1 << 14;

    /** The dtypes a checkpoint can be converted to. */
    static boolean isTarget(DType t) { return t == DType.BF16 || t == DType.F16 || t == DType.F32; }

    /**
     * Reads {@code count} elements of {@code from} at {@code src}'s position, writes them as {@code to}
     * ({@link #isTarget}) at {@code dst}'s position (both advance) and returns how many finite inputs
     * became infinite.
     */
    static long convert(ByteBuffer src, DType from, ByteBuffer dst, DType to, int count) {
        if (!from.isFloatingPoint()) throw new IllegalArgumentException(from + " is not a floating-point dtype");
        if (!isTarget(to)) throw new IllegalArgumentException("cannot convert to " + to + " (bf16, f16 or f32 only)");
        float[] f = new float[Math.min(count, CHUNK)];
        short[] h = new short[f.length];
        double[] d = from == DType.F64 ? new double[f.length] : null;
        long overflows = 0;
        for (int done = 0; done < count; ) {
            int n = Math.min(f.length, count - done);
            long inputInfinities = decode(src, from, to, f, h, d, n);
            overflows += encode(f, 0, h, dst, to, n) - inputInfinities;
            done += n;
        }
        return overflows;
    }

    /**
     * Decodes n elements into f (exact for bf16, f16 and f32; f64 prepared for one rounding to
     * {@code to}); returns how many inputs were infinite. {@code s} and {@code d} are scratch.
     */
    private static long decode(ByteBuffer src, DType from, DType to, float[] f, short[] s, double[] d, int n) {
        long inf = 0;
        switch (from) {
            case F32 -> {
                src.asFloatBuffer().get(f, 0, n);
                for (int i = 0; i < n; i++) if (Float.isInfinite(f[i])) inf++;
            }
            case BF16, F16 -> {
                src.asShortBuffer().get(s, 0, n);
                if (from == DType.BF16) for (int i = 0; i < n; i++) f[i] = HalfFloats.bf16ToFloat(s[i]);
                else for (int i = 0; i < n; i++) f[i] = HalfFloats.f16ToFloat(s[i]);
                for (int i = 0; i < n; i++) if (Float.isInfinite(f[i])) inf++;
            }
            case F64 -> {
                src.asDoubleBuffer().get(d, 0, n);
                for (int i = 0; i < n; i++) {
                    if (Double.isInfinite(d[i])) inf++;
                    f[i] = to == DType.F32 ? (float) d[i] : roundToOdd(d[i]); // the cast rounds to nearest even
                }
            }
            default -> throw new IllegalArgumentException(from.toString());
        }
        src.position(src.position() + n * from.bytes());
        return inf;
    }

    /**
     * Writes fp32 values as {@code to} ({@link #isTarget}) at {@code dst}'s position (it advances) and
     * returns how many finite values became infinite.
     */
    static long fromFloats(float[] values, ByteBuffer dst, DType to) {
        if (!isTarget(to)) throw new IllegalArgumentException("cannot convert to " + to + " (bf16, f16 or f32 only)");
        short[] h = new short[Math.min(values.length, CHUNK)];
        long overflows = 0;
        for (int done = 0; done < values.length; ) {
            int n = Math.min(h.length, values.length - done);
            long inputInfinities = 0;
            for (int i = done; i < done + n; i++) if (Float.isInfinite(values[i])) inputInfinities++;
            overflows += encode(values, done, h, dst, to, n) - inputInfinities;
            done += n;
        }
        return overflows;
    }

    /** Encodes f[off, off+n) as {@code to}; returns how many written values are infinite. */
    private static long encode(float[] f, int off, short[] h, ByteBuffer dst, DType to, int n) {
        long inf = 0;
        switch (to) {
            case F32 -> {
                dst.asFloatBuffer().put(f, off, n);
                for (int i = off; i < off + n; i++) if (Float.isInfinite(f[i])) inf++;
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    h[i] = HalfFloats.floatToBf16(f[off + i]);
                    if ((h[i] & 0x7FFF) == 0x7F80) inf++;
                }
                dst.asShortBuffer().put(h, 0, n);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    h[i] = HalfFloats.floatToF16(f[off + i]);
                    if ((h[i] & 0x7FFF) == 0x7C00) inf++;
                }
                dst.asShortBuffer().put(h, 0, n);
            }
            default -> throw new IllegalArgumentException(to.toString());
        }
        dst.position(dst.position() + n * to.bytes());
        return inf;
    }

    /**
     * Rounds a double to float by truncation, setting the last bit when inexact ("round to odd").
     * Rounding that float again to nearest-even at 11 bits or fewer gives the same result as rounding
     * the double directly, since float keeps at least two more bits; a plain (float) cast would round
     * twice and break ties that the double resolves. Doubles beyond the float range stay beyond the
     * narrower formats' range too.
     */
    static float roundToOdd(double d) {
        float f = (float) d;
        if (Double.isNaN(d) || (double) f == d) return f;
        if (Float.isInfinite(f)) return Math.copySign(Float.MAX_VALUE, f);
        if (Math.abs((double) f) > Math.abs(d)) f = Math.nextAfter(f, 0.0);
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }
}
