package zq.formats.gguf;

import org.junit.jupiter.api.Test;
import zq.formats.HalfFloats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** ggml's block types against blocks worked by hand from llama.cpp's reference rules (ggml/src/ggml-quants.c). */
class GgmlBlocksTest {
    private static ByteBuffer buf(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    /**
     * llama.cpp's round-to-nearest Q4_0: the value of largest magnitude is −1.6, so d = −1.6/−8 = 0.2 (fp16 0x3266 =
     * 0.199951171875) and 1/d = 5 from the fp32 d; codes are (int8_t)(x·5 + 8.5) clamped to 15:
     * −1.6 → 0, 0.3 → 10, −0.3 → 7, 1.5 → 16 → 15, 0.1 → 9, 0 → 8.
     */
    @Test
    void q4_0RoundToNearestMatchesTheHandWorkedBlock() {
        float[] x = new float[32];
        x[0] = -1.6f;
        x[1] = 0.3f;
        x[2] = -0.3f;
        x[3] = 1.5f;
        x[16] = 0.1f; // lands in the high nibble of byte 0
        ByteBuffer b = buf(18);
        Q4_0Blocks.quantize(x, 0, b);
        b.flip();
        assertEquals((short) 0x3266, b.getShort(0));
        int[] codes = new int[32];
        for (int j = 0; j < 16; j++) {
            codes[j] = b.get(2 + j) & 0xF;
            codes[j + 16] = (b.get(2 + j) & 0xFF) >>> 4;
        }
        int[] expected = new int[32];
        java.util.Arrays.fill(expected, 8);
        expected[0] = 0;
        expected[1] = 10;
        expected[2] = 7;
        expected[3] = 15;
        expected[16] = 9;
        assertArrayEquals(expected, codes);
        assertEquals(0x90, b.get(2) & 0xFF, "byte 0: code of value 16 high, of value 0 low");
        float[] y = new float[32];
        Q4_0Blocks.dequantize(b, y, 0);
        double d = 0.199951171875;
        assertEquals(-8 * d, y[0], 0);
        assertEquals(7 * d, y[3], 0, "1.5 is clamped to code 15, the grid's top is 7d");
        assertEquals(0, y[5], 0);
        // GPTQ's symmetric grid for the same block is scale = 2·1.6/15 with zero 8: another grid entirely
        float gptqScale = 2 * 1.6f / 15;
        assertNotEquals(HalfFloats.f16ToFloat(HalfFloats.floatToF16(gptqScale)), HalfFloats.f16ToFloat(b.getShort(0)));
    }

    /** d = 127·2^-7 / 127 = 2^-7 exactly, so x·(1/d) is exact and −2.5 must round away from zero to −3 (C's roundf). */
    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127 * 0x1p-7f;
        x[1] = -2.5f * 0x1p-7f;
        x[2] = 2.5f * 0x1p-7f;
        ByteBuffer b = buf(34);
        Q8_0Blocks.quantize(x, 0, b);
        assertEquals(HalfFloats.floatToF16(0x1p-7f), b.getShort(0));
        assertEquals(127, b.get(2));
        assertEquals(-3, b.get(3), "roundf(-2.5) = -3; Java's Math.round would give -2");
        assertEquals(3, b.get(4));
    }

    /** min −1, max 2: d = 3/15 = 0.2, m = −1; x = 0.5 → (0.5+1)·5 + 0.5 = 8, x = 2 → 15.5 → 15. */
    @Test
    void q4_1MatchesTheHandWorkedBlock() {
        float[] x = new float[32];
        x[0] = -1;
        x[1] = 2;
        x[2] = 0.5f;
        ByteBuffer b = buf(20);
        Q4_1Blocks.quantize(x, 0, b);
        assertEquals(HalfFloats.floatToF16(0.2f), b.getShort(0));
        assertEquals((short) 0xBC00, b.getShort(2), "m = -1.0 in fp16");
        assertEquals(0, b.get(4) & 0xF);
        assertEquals(15, b.get(5) & 0xF);
        assertEquals(8, b.get(6) & 0xF);
        assertEquals(5, b.get(7) & 0xF, "0 → (0+1)·5 + 0.5 = 5.5 → 5");
    }

    /** Decoding inverts encoding within each type's rounding: exact for F32, half an ulp for F16/BF16, half a step for blocks. */
    @Test
    void everyTypeDecodesWhatItEncodes() {
        SplittableRandom r = new SplittableRandom(1);
        float[] x = new float[256];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (GgmlType t : GgmlType.values()) {
            ByteBuffer b = buf((int) t.byteSize(x.length, x.length));
            t.encode(x, 0, x.length, b);
            assertEquals(0, b.remaining(), t + " fills exactly its byte size");
            b.flip();
            float[] y = new float[x.length];
            t.decode(b, y, 0, y.length);
            double tol = switch (t) {
                case F32 -> 0;
                case F16 -> 0x1p-11;
                case BF16 -> 0x1p-8;
                case Q8_0 -> 0.5 / 127 * 1.001;
                case Q4_0 -> 1.0 / 8 * 1.001;   // top code clamps: up to one step d = amax/8 at +amax
                case Q4_1 -> 2.0 / 15 / 2 * 1.001 + 0x1p-10;
            };
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], tol, t + " value " + i);
        }
    }
}
