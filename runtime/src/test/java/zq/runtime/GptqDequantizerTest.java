package zq.runtime;

import org.junit.jupiter.api.Test;
import zq.runtime.fixtures.GptqFixture;
import zq.runtime.GptqDequantizer.ZeroConvention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GptqDequantizerTest {

    @Test
    void publishedPackingExampleUnpacksLowestNibbleFirst() {
        // gptq.md §3.4: input rows 0..7 holding q = 1..8 pack into 0x87654321 = −2023406815 as int32
        assertArrayEquals(new int[]{1, 2, 3, 4, 5, 6, 7, 8}, GptqDequantizer.unpackCodes(new int[]{-2023406815}, 8, 1));
    }

    @Test
    void symmetricV1ZerosWord0x77777777MeansZeroEight() {
        // gptq.md §3.3: sym int4 stores 8 − 1 = 7 in every nibble
        int[] z = GptqDequantizer.unpackZeros("x", new int[]{0x77777777, 0x77777777}, 1, 16, ZeroConvention.STORED_MINUS_ONE);
        for (int v : z) assertEquals(8, v);
    }

    @Test
    void handBuiltActOrderLayerDequantizesToTheLayoutValuesV1() {
        // groups of 4 with a shuffled g_idx; zeros 1..16, the whole range v1 can store
        GptqFixture f = GptqFixture.random(32, 16, 4, 1, 5);
        float[] w = GptqDequantizer.dequantize("layer", f.qweight(), f.qzeros(true), f.scalesFlat(), f.gIdx(), 32, 16,
                ZeroConvention.STORED_MINUS_ONE);
        assertArrayEquals(f.dequantized(), w, 0f);
    }

    @Test
    void handBuiltActOrderLayerDequantizesToTheLayoutValuesV2() {
        // zeros 0..15, the whole range v2 can store
        GptqFixture f = GptqFixture.random(24, 8, 8, 0, 6);
        float[] w = GptqDequantizer.dequantize("layer", f.qweight(), f.qzeros(false), f.scalesFlat(), f.gIdx(), 24, 8,
                ZeroConvention.STORED_AS_IS);
        assertArrayEquals(f.dequantized(), w, 0f);
    }

    @Test
    void groupSizeMinusOneIsOneGroup() {
        GptqFixture f = GptqFixture.random(16, 8, -1, 1, 7);
        assertEquals(1, f.groups());
        float[] w = GptqDequantizer.dequantize("layer", f.qweight(), f.qzeros(true), f.scalesFlat(), f.gIdx(), 16, 8,
                ZeroConvention.STORED_MINUS_ONE);
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
        float[] w = GptqDequantizer.dequantize("l", qweight, qzeros, scales, new int[8], 8, 8, ZeroConvention.STORED_MINUS_ONE);
        assertEquals(1f, w[2 * 8 + 3]);
        assertEquals(0.25f * (0 - 7), w[2 * 8 + 4]);
        assertEquals(0f, w[0], 0f); // scale 0 elsewhere in the row
    }

    @Test
    void gIdxOutsideTheGroupsIsRefused() {
        GptqFixture f = GptqFixture.random(16, 8, 8, 1, 8);
        int[] g = f.gIdx().clone();
        g[5] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GptqDequantizer.dequantize("m.q_proj",
                f.qweight(), f.qzeros(true), f.scalesFlat(), g, 16, 8, ZeroConvention.STORED_MINUS_ONE));
        assertEquals("m.q_proj: g_idx[5] = 2 is outside the 2 groups of scales", e.getMessage());
    }

    @Test
    void wrongSizesAreRefusedNamingTheTensor() {
        GptqFixture f = GptqFixture.random(16, 8, 8, 1, 9);
        assertEquals("m.k_proj: qweight has 8 words, expected [2, 8]", assertThrows(IllegalArgumentException.class,
                () -> GptqDequantizer.dequantize("m.k_proj", new int[8], f.qzeros(true), f.scalesFlat(), f.gIdx(), 16, 8,
                        ZeroConvention.STORED_MINUS_ONE)).getMessage());
        assertEquals("m.k_proj: scales has 12 values, not a whole number of groups of 8", assertThrows(IllegalArgumentException.class,
                () -> GptqDequantizer.dequantize("m.k_proj", f.qweight(), f.qzeros(true), new float[12], f.gIdx(), 16, 8,
                        ZeroConvention.STORED_MINUS_ONE)).getMessage());
        assertEquals("m.k_proj: g_idx has 8 entries, expected in_features 16", assertThrows(IllegalArgumentException.class,
                () -> GptqDequantizer.dequantize("m.k_proj", f.qweight(), f.qzeros(true), f.scalesFlat(), new int[8], 16, 8,
                        ZeroConvention.STORED_MINUS_ONE)).getMessage());
        assertEquals("m.k_proj: qzeros has 1 words, expected [2, 1]", assertThrows(IllegalArgumentException.class,
                () -> GptqDequantizer.dequantize("m.k_proj", f.qweight(), new int[1], f.scalesFlat(), f.gIdx(), 16, 8,
                        ZeroConvention.STORED_MINUS_ONE)).getMessage());
        assertEquals("m.k_proj: GPTQ Int4 needs in_features and out_features that are positive multiples of 8, got in 12, out 8",
                assertThrows(IllegalArgumentException.class, () -> GptqDequantizer.dequantize("m.k_proj", new int[8],
                        new int[1], new float[8], new int[12], 12, 8, ZeroConvention.STORED_MINUS_ONE)).getMessage());
    }
}
