package zq.runtime;

import org.junit.jupiter.api.Test;
import zq.runtime.fixtures.GptqFixture;
import zq.formats.gptq.Int4Layout;
import zq.formats.gptq.ZeroFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The decoder of the GPTQ layout that the runtime ({@link LayerWeightsLoader}) and convert use, against hand-worked words. */
class Int4LayoutTest {

    @Test
    void publishedPackingExampleUnpacksLowestNibbleFirst() {
        // docs/gptq.md, "The AutoGPTQ layout": input rows 0..7 holding q = 1..8 pack into 0x87654321 = −2023406815 as
        // int32. With scale 1 and zero 0 (v2 stores it as is) the decoded weight is the code itself; column 3 holds the
        // word, the other columns code 0.
        int[] qweight = new int[8];
        qweight[3] = -2023406815;
        float[] scales = new float[8];
        java.util.Arrays.fill(scales, 1f);
        float[] w = Int4Layout.dequantize("x", qweight, new int[1], scales, new int[8], 8, 8, ZeroFormat.GPTQ_V2);
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, java.util.Arrays.copyOfRange(w, 3 * 8, 4 * 8), 0f);
        assertArrayEquals(new float[8], java.util.Arrays.copyOfRange(w, 2 * 8, 3 * 8), 0f);
        // highest nibble first would read 8..1: the order matters
        assertEquals(1f, w[3 * 8]);
    }

    @Test
    void symmetricV1ZerosWord0x77777777MeansZeroEight() {
        // docs/gptq.md, "Zero points": sym int4 stores 8 − 1 = 7 in every nibble
        int[] z = Int4Layout.unpackZeros("x", new int[]{0x77777777, 0x77777777}, 1, 16, ZeroFormat.GPTQ_V1);
        for (int v : z) assertEquals(8, v);
    }

    @Test
    void handBuiltActOrderLayerDequantizesToTheLayoutValuesV1() {
        // groups of 4 with a shuffled g_idx; zeros 1..16, the whole range v1 can store
        GptqFixture f = GptqFixture.random(32, 16, 4, 1, 5);
        float[] w = Int4Layout.dequantize("layer", f.qweight(), f.qzeros(true), f.scalesFlat(), f.gIdx(), 32, 16,
                ZeroFormat.GPTQ_V1);
        assertArrayEquals(f.dequantized(), w, 0f);
    }

    @Test
    void handBuiltActOrderLayerDequantizesToTheLayoutValuesV2() {
        // zeros 0..15, the whole range v2 can store
        GptqFixture f = GptqFixture.random(24, 8, 8, 0, 6);
        float[] w = Int4Layout.dequantize("layer", f.qweight(), f.qzeros(false), f.scalesFlat(), f.gIdx(), 24, 8,
                ZeroFormat.GPTQ_V2);
        assertArrayEquals(f.dequantized(), w, 0f);
    }

    @Test
    void groupSizeMinusOneIsOneGroup() {
        GptqFixture f = GptqFixture.random(16, 8, -1, 1, 7);
        assertEquals(1, f.groups());
        float[] w = Int4Layout.dequantize("layer", f.qweight(), f.qzeros(true), f.scalesFlat(), f.gIdx(), 16, 8,
                ZeroFormat.GPTQ_V1);
        assertArrayEquals(f.dequantized(), w, 0f);
    }

    @Test
    void oneHandWorkedWeight() {
        // in 8, out 8, one group: q[3][2] = 11, stored v1 zero nibble 6 → zero 7, scale 0.25: W[2][3] = 0.25·(11 − 7) = 1
        int[] qweight = new int[8];
        qweight[2] = 11 << 12;
        int[] qzeros = {6 << 8};
        float[] scales = new float[8];
        scales[2] = 0.25f;
        float[] w = Int4Layout.dequantize("l", qweight, qzeros, scales, new int[8], 8, 8, ZeroFormat.GPTQ_V1);
        assertEquals(1f, w[2 * 8 + 3]);
        assertEquals(0.25f * (0 - 7), w[2 * 8 + 4]);
        assertEquals(0f, w[0], 0f); // scale 0 elsewhere in the row
    }

    @Test
    void gIdxOutsideTheGroupsIsRefused() {
        GptqFixture f = GptqFixture.random(16, 8, 8, 1, 8);
        int[] g = f.gIdx().clone();
        g[5] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Int4Layout.dequantize("m.q_proj",
                f.qweight(), f.qzeros(true), f.scalesFlat(), g, 16, 8, ZeroFormat.GPTQ_V1));
        assertEquals("m.q_proj: g_idx[5] = 2 is outside the 2 groups of scales", e.getMessage());
    }

    @Test
    void wrongSizesAreRefusedNamingTheTensor() {
        GptqFixture f = GptqFixture.random(16, 8, 8, 1, 9);
        assertEquals("m.k_proj: qweight has 8 words, expected [2, 8]", assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.dequantize("m.k_proj", new int[8], f.qzeros(true), f.scalesFlat(), f.gIdx(), 16, 8,
                        ZeroFormat.GPTQ_V1)).getMessage());
        assertEquals("m.k_proj: scales has 12 values, not a whole number of groups of 8", assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.dequantize("m.k_proj", f.qweight(), f.qzeros(true), new float[12], f.gIdx(), 16, 8,
                        ZeroFormat.GPTQ_V1)).getMessage());
        assertEquals("m.k_proj: g_idx has 8 entries, expected in_features 16", assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.dequantize("m.k_proj", f.qweight(), f.qzeros(true), f.scalesFlat(), new int[8], 16, 8,
                        ZeroFormat.GPTQ_V1)).getMessage());
        assertEquals("m.k_proj: qzeros has 1 words, expected [2, 1]", assertThrows(IllegalArgumentException.class,
                () -> Int4Layout.dequantize("m.k_proj", f.qweight(), new int[1], f.scalesFlat(), f.gIdx(), 16, 8,
                        ZeroFormat.GPTQ_V1)).getMessage());
        assertEquals("m.k_proj: GPTQ Int4 needs in_features and out_features that are positive multiples of 8, got in 12, out 8",
                assertThrows(IllegalArgumentException.class, () -> Int4Layout.dequantize("m.k_proj", new int[8],
                        new int[1], new float[8], new int[12], 12, 8, ZeroFormat.GPTQ_V1)).getMessage());
    }
}
