package zq.formats.gguf;

import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * ggml's {@code block_q4_1}: fp16 {@code d} and {@code m}, then 16 bytes of 4-bit codes laid out as in
 * Q4_0; value {@code d·q + m}. {@link #quantize} is llama.cpp's {@code quantize_row_q4_1_ref}
 * (ggml/src/ggml-quants.c): {@code d = (max − min)/15}, {@code m = min}, codes {@code (int8_t)((x − min)/d + 0.5)}
 * clamped to 15.
 */
public final class Q4_1Blocks {
    private Q4_1Blocks() {}

    public static void quantize(float[] x, int off, ByteBuffer out) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[off + j]);
            max = Math.max(max, x[off + j]);
        }
        float d = (max - min) / 15f;
        float id = d != 0 ? 1f / d : 0f;
        byte[] q = new byte[32];
        for (int j = 0; j < 32; j++) q[j] = (byte) Math.min(15, (int) (byte) (int) ((x[off + j] - min) * id + 0.5f));
        write(HalfFloats.floatToF16(d), HalfFloats.floatToF16(min), q, out);
    }

    /** One block from fp16 bits of d and m and 32 codes in 0..15. */
    public static void write(short d, short m, byte[] codes, ByteBuffer out) {
        out.putShort(d);
        out.putShort(m);
        putNibbles(codes, out);
    }

    static void putNibbles(byte[] codes, ByteBuffer out) {
        for (int j = 0; j < 16; j++) {
            int lo = codes[j], hi = codes[j + 16];
            if ((lo | hi) < 0 || lo > 15 || hi > 15) throw new IllegalArgumentException("code " + (lo < 0 || lo > 15 ? lo : hi) + " is not 4-bit");
            out.put((byte) (lo | (hi << 4)));
        }
    }

    public static void dequantize(ByteBuffer in, float[] y, int off) {
        float d = HalfFloats.f16ToFloat(in.getShort());
        float m = HalfFloats.f16ToFloat(in.getShort());
        for (int j = 0; j < 16; j++) {
            int b = in.get() & 0xFF;
            y[off + j] = (b & 0xF) * d + m;
            y[off + j + 16] = (b >>> 4) * d + m;
        }
    }
}
