package zq.formats;

import java.nio.ByteBuffer;

/** Decodes little-endian tensor bytes of any floating-point (or integer) dtype into fp32. */
final class TensorDecoder {
    private TensorDecoder() {}

    static void toFloats(TensorInfo t, ByteBuffer b, float[] dst, int off, int n) {
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(dst, off, n);
            case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = HalfFloats.bf16ToFloat(b.getShort(2 * i)); }
            case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = HalfFloats.f16ToFloat(b.getShort(2 * i)); }
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
