package zq.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import zq.formats.HalfFloats;
import zq.formats.gptq.Int4Layout;
import zq.formats.gptq.PackedLinear;
import zq.formats.gptq.ZeroFormat;

/** Packing against hand-worked words, and packing read back by the decoder the runtime uses. */
class Int4PackingTest {
    /** What a loader decodes, through the runtime's decoder, from the fp16 scales as the file stores them. */
    private static float[] dequantize(PackedLinear p) {
        float[] scales = new float[p.scales().length];
        for (int i = 0; i < scales.length; i++) scales[i] = HalfFloats.f16ToFloat(p.scales()[i]);
        return Int4Layout.dequantize("lm.q_proj", p.qweight(), p.qzeros(), scales, p.gIdx(), p.inFeatures(), p.outFeatures(),
                p.zeroFormat());
    }


    @Test
    void workedExampleWord() {
        // docs/gptq.md, "The AutoGPTQ layout": output column n, input rows k = 0..7 with q = 1..8 -> 0x87654321 = -2023406815, bytes 21 43 65 87
        int out = 8;
        int in = 8;
        byte[] codes = new byte[out * in];
        int n = 3;
        for (int k = 0; k < 8; k++) codes[n * in + k] = (byte) (k + 1);
        int[] qweight = Int4Layout.packCodes("t", codes, out, in);
        assertEquals(0x87654321, qweight[n]);
        assertEquals(-2023406815, qweight[n]);
        byte[] le = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(qweight[n]).array();
        assertArrayEquals(new byte[]{0x21, 0x43, 0x65, (byte) 0x87}, le);
        for (int other = 0; other < out; other++) if (other != n) assertEquals(0, qweight[other]);
    }

    @Test
    void wordsOfSecondRowBlockAndZeros() {
        // in = 16: word (r = 1, n) holds k = 8..15; k = 8 in the lowest nibble
        int out = 8;
        int in = 16;
        byte[] codes = new byte[out * in];
        int[] ks = {15, 0, 1, 2, 3, 4, 5, 6};
        for (int j = 0; j < 8; j++) codes[5 * in + 8 + j] = (byte) ks[j];
        codes[2 * in] = 9; // k = 0, n = 2: word (0, 2), low nibble
        codes[2 * in + 7] = 10; // k = 7, n = 2: word (0, 2), high nibble
        int[] qw = Int4Layout.packCodes("t", codes, out, in);
        assertEquals(0x6543210F, qw[out + 5]);
        assertEquals(0xA0000009, qw[2]);

        // sym zero 8 is stored as 7 in every nibble in v1: 0x77777777 = 2004318071
        int[] zeros = new int[2 * out];
        Arrays.fill(zeros, 8);
        int[] qz = Int4Layout.packZeros("t", zeros, 2, out, ZeroFormat.GPTQ_V1);
        assertArrayEquals(new int[]{2004318071, 2004318071}, qz);
        // v2 stores the zero itself
        assertArrayEquals(new int[]{0x88888888, 0x88888888}, Int4Layout.packZeros("t", zeros, 2, out, ZeroFormat.GPTQ_V2));
        // output column n = 8c + j sits in nibble j: zeros [0,3,8,8,8,8,8,8] -> v2 word 0x88888830
        int[] asym = {0, 3, 8, 8, 8, 8, 8, 8};
        assertArrayEquals(new int[]{0x88888830}, Int4Layout.packZeros("t", asym, 1, out, ZeroFormat.GPTQ_V2));
    }

    @Test
    void v1RefusesZeroPointZero() {
        int[] asym = {0, 3, 8, 8, 8, 8, 8, 8};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.packZeros("model.layers.1.mlp.up_proj", asym, 1, 8, ZeroFormat.GPTQ_V1));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj") && e.getMessage().contains("zero point 0"),
                e.getMessage());
    }

    @Test
    void roundTripAndDequantize() {
        Random rnd = new Random(11);
        int out = 24;
        int in = 64;
        int groups = 4;
        byte[] codes = new byte[out * in];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) rnd.nextInt(16);
        int[] zeros = new int[groups * out];
        float[] scales = new float[groups * out];
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = 1 + rnd.nextInt(15);
            scales[i] = (float) (0.001 + rnd.nextDouble() * 0.05);
        }
        int[] gIdx = new int[in];
        for (int k = 0; k < in; k++) gIdx[k] = rnd.nextInt(groups); // act-order style, non-monotone
        QuantizedLinear q = QuantizedLinear.assemble("t", out, in, in / groups, codes, scales, zeros, gIdx, null);
        for (ZeroFormat f : ZeroFormat.values()) {
            PackedLinear p = q.pack("t", f);
            assertEquals(in / 8 * out, p.qweight().length);
            assertEquals(groups * out / 8, p.qzeros().length);
            assertArrayEquals(zeros, Int4Layout.unpackZeros("t", p.qzeros(), groups, out, f));
            // the runtime's decoder reads codes as q[k][n], the transpose of the solver's [n][k]; every scale is
            // nonzero, so a code in the wrong place shows in the weight checked below
            float[] w = dequantize(p);
            for (int n = 0; n < out; n++) {
                for (int k = 0; k < in; k++) {
                    int g = gIdx[k];
                    // the scale a loader reads is the fp16 value
                    double s16 = HalfFloats.f16ToFloat(HalfFloats.floatToF16(scales[g * out + n]));
                    double want = s16 * (codes[n * in + k] - zeros[g * out + n]);
                    assertEquals(want, w[n * in + k], 0.0, "n=" + n + " k=" + k);
                }
            }
            // the solver's dequantised weight is what the checkpoint decodes to
            assertArrayEquals(q.dequantized(), w);
        }
    }

    @Test
    void rejectsBadShapesAndValues() {
        IllegalArgumentException outBad = assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.packCodes("lm.q_proj", new byte[12 * 8], 12, 8));
        assertTrue(outBad.getMessage().contains("lm.q_proj") && outBad.getMessage().contains("out_features 12"),
                outBad.getMessage());
        IllegalArgumentException inBad = assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.packCodes("lm.q_proj", new byte[8 * 12], 8, 12));
        assertTrue(inBad.getMessage().contains("in_features 12"), inBad.getMessage());
        byte[] codes = new byte[64];
        codes[5] = 16;
        IllegalArgumentException code = assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.packCodes("lm.q_proj", codes, 8, 8));
        assertTrue(code.getMessage().contains("code 16"), code.getMessage());
        PackedLinear badIdx = new PackedLinear(8, 8, 1, new int[8], new int[1], new short[8], new int[]{0, 0, 0, 1, 0, 0, 0, 0},
                ZeroFormat.GPTQ_V1);
        IllegalArgumentException idx = assertThrows(IllegalArgumentException.class,
                () -> dequantize(badIdx));
        assertTrue(idx.getMessage().contains("g_idx[3] = 1"), idx.getMessage());
        IllegalArgumentException scale = assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.scalesToF16("lm.q_proj", new float[]{1f, 70000f}));
        assertTrue(scale.getMessage().contains("70000"), scale.getMessage());
    }
}
