package zq.formats.gguf;

import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * ggml's {@code block_q4_0}: an fp16 scale {@code d} and 16 bytes of 4-bit codes, value {@code d·(q − 8)}.
 * Byte {@code j} holds the code of value {@code j} in its low nibble and that of value {@code j + 16} in its
 * high nibble. {@link #quantize} is llama.cpp's round-to-nearest {@code quantize_row_q4_0_ref}
 * (ggml/src/ggml-quants.c); {@link #write} stores codes chosen elsewhere (GPTQ's) unchanged.
 */
public final class Q4_0Blocks {
    private Q4_0Blocks() {}

    /**
     * d is the block's value of largest magnitude, sign kept, divided by −8 (so that value gets code 0);
     * codes are {@code (int8_t)(x/d + 8.5)} clamped to 15, with {@code 1/d} taken from the fp32 d.
     */
    public static void quantize(float[] x, int off, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[off + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        byte[] q = new byte[32];
        for (int j = 0; j < 32; j++) q[j] = (byte) Math.min(15, (int) (byte) (int) (x[off + j] * id + 8.5f));
        write(HalfFloats.floatToF16(d), q, out);
    }

    /** One block from fp16 scale bits and 32 codes in 0..15. */
    public static void write(short d, byte[] codes, ByteBuffer out) {
        out.putShort(d);
        Q4_1Blocks.putNibbles(codes, out);
    }

    public static void dequantize(ByteBuffer in, float[] y, int off) {
        float d = HalfFloats.f16ToFloat(in.getShort());
        for (int j = 0; j < 16; j++) {
            int b = in.get() & 0xFF;
            y[off + j] = ((b & 0xF) - 8) * d;
            y[off + j + 16] = ((b >>> 4) - 8) * d;
        }
    }
}
