package zq.formats;

import java.nio.ByteBuffer;

/** Encodes fp32 values as a floating-point dtype into a little-endian buffer. */
final class FloatEncoder {
    private FloatEncoder() {}

    static void encode(float[] v, int from, int n, DType dtype, ByteBuffer b) {
        switch (dtype) {
            case F32 -> { for (int i = 0; i < n; i++) b.putFloat(v[from + i]); }
            case BF16 -> { for (int i = 0; i < n; i++) b.putShort(HalfFloats.floatToBf16(v[from + i])); }
            case F16 -> { for (int i = 0; i < n; i++) b.putShort(HalfFloats.floatToF16(v[from + i])); }
            case F64 -> { for (int i = 0; i < n; i++) b.putDouble(v[from + i]); }
            default -> throw new IllegalArgumentException("cannot encode floats as " + dtype);
        }
    }
}
