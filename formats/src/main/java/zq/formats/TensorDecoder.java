package zq.formats;

import java.nio.ByteBuffer;

/** Decodes little-endian tensor bytes of any floating-point (or integer) dtype into fp32. */
final class TensorDecoder {
    private TensorDecoder() {}

    /** Every binary16 value as a float, indexed by its bits: a lookup beats the branches of a conversion. */
    private static final float[] F16_VALUES = new float[1 << 16];

    static {
        for (int bits = 0; bits < F16_VALUES.length; bits++) F16_VALUES[bits] = HalfFloats.f16ToFloat((short) bits);
    }

    /** Decodes the {@code n} elements at index 0 of {@code b} (little-endian) into {@code dst[off..off+n)}. */
    static void toFloats(DType dtype, ByteBuffer b, float[] dst, int off, int n) {
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(dst, off, n);
            case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat(b.getShort(2 * i) << 16); }
            case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = F16_VALUES[b.getShort(2 * i) & 0xFFFF]; }
            case F64 -> { for (int i = 0; i < n; i++) dst[off + i] = (float) b.getDouble(8 * i); }
            case I8 -> { for (int i = 0; i < n; i++) dst[off + i] = b.get(i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) dst[off + i] = b.get(i) & 0xFF; }
            case I16 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getShort(2 * i); }
            case U16 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getShort(2 * i) & 0xFFFF; }
            case I32 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getInt(4 * i); }
            case U32 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getInt(4 * i) & 0xFFFFFFFFL; }
            case I64 -> { for (int i = 0; i < n; i++) dst[off + i] = b.getLong(8 * i); }
            case U64 -> { for (int i = 0; i < n; i++) dst[off + i] = unsigned(b.getLong(8 * i)); }
        }
    }

    private static float unsigned(long v) {
        return v >= 0 ? v : (float) ((v >>> 1) * 2.0 + (v & 1));
    }
}
