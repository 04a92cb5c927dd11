package zq.formats.gguf;

import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * ggml's {@code block_q8_0}: an fp16 scale {@code d} and 32 signed bytes, value {@code d·q}.
 * Quantization is llama.cpp's {@code quantize_row_q8_0_ref} (ggml/src/ggml-quants.c):
 * {@code d = max|x| / 127}, {@code q = roundf(x / d)}, rounding halves away from zero.
 */
public final class Q8_0Blocks {
    private Q8_0Blocks() {}

    public static void quantize(float[] x, int off, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(HalfFloats.floatToF16(d));
        for (int j = 0; j < 32; j++) out.put((byte) roundHalfAway(x[off + j] * id));
    }

    public static void dequantize(ByteBuffer in, float[] y, int off) {
        float d = HalfFloats.f16ToFloat(in.getShort());
        for (int j = 0; j < 32; j++) y[off + j] = in.get() * d;
    }

    /** C's roundf: halves go away from zero (Java's Math.round sends −2.5 to −2). */
    static int roundHalfAway(float v) {
        return v < 0 ? -Math.round(-v) : Math.round(v);
    }
}
