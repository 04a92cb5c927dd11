package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import zq.formats.Architecture;
import zq.formats.ModelConfig;
import zq.formats.SyntheticModel;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Inverse frequencies worked out by hand from the formulas of docs/formats.md, "RoPE variants", for head_dim 4 or 8 and θ = 10000. */
class RopeTest {

    private static Rope rope(int headDim, int maxPositions, String scalingJson) {
        ObjectNode c = SyntheticModel.config(Architecture.LLAMA, 4 * headDim, 8, 1, 4, 4, 10);
        c.put("max_position_embeddings", maxPositions);
        c.put("rope_theta", 10000.0);
        if (scalingJson != null) {
            try {
                c.set("rope_scaling", new com.fasterxml.jackson.databind.ObjectMapper().readTree(scalingJson));
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }
        return Rope.of(ModelConfig.of(c, Path.of("config.json")));
    }

    @Test
    void defaultIsThetaToTheMinusTwoIOverD() {
        // head_dim 4: 1/10000^(0/4), 1/10000^(2/4)
        assertArrayEquals(new float[]{1f, 0.01f}, rope(4, 64, null).inverseFrequencies(16), 1e-9f);
    }

    @Test
    void linearDividesByFactor() {
        assertArrayEquals(new float[]{0.25f, 0.0025f}, rope(4, 64, "{\"type\":\"linear\",\"factor\":4}").inverseFrequencies(16), 1e-9f);
    }

    @Test
    void dynamicRaisesTheBaseOnlyPastMaxPositions() {
        Rope r = rope(4, 8, "{\"type\":\"dynamic\",\"factor\":2}");
        // L = 16 > 8: θ' = 10000·(2·16/8 − 1)^(4/2) = 90000, so the second frequency is 1/300
        assertArrayEquals(new float[]{1f, 1f / 300}, r.inverseFrequencies(16), 1e-9f);
        // L = max(8, 8): θ' = θ
        assertArrayEquals(new float[]{1f, 0.01f}, r.inverseFrequencies(8), 1e-9f);
    }

    @Test
    void llama3KeepsShortDividesLongAndBlendsTheMiddle() {
        // wavelengths 2π and 200π; old context 100, factors 1/4: 2π < 25 kept, 628 > 100 divided by 8
        assertArrayEquals(new float[]{1f, 0.00125f}, rope(4, 64, "{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,"
                + "\"high_freq_factor\":4,\"original_max_position_embeddings\":100}").inverseFrequencies(16), 1e-9f);
        // old context 1000: 250 ≤ 628 ≤ 1000 is blended with smooth = (1000/628.3185 − 1)/3 = 0.1971831
        float[] inv = rope(4, 64, "{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,"
                + "\"high_freq_factor\":4,\"original_max_position_embeddings\":1000}").inverseFrequencies(16);
        assertEquals(1f, inv[0], 1e-9f);
        assertEquals(0.0029753525f, inv[1], 1e-9f);
    }

    @Test
    void yarnRampsBetweenTheCorrectionDimsAndScalesByItsAttentionFactor() {
        // head_dim 8: base frequencies 1, 0.1, 0.01, 0.001. Correction range over 64 positions:
        // low = max(0, floor(8·ln(64/(32·2π))/(2 ln 10000))) = 0, high = ceil(8·ln(64/2π)/(2 ln 10000)) = ceil(1.008) = 2,
        // ramp = [0, 0.5, 1, 1]: inv = ramp·inv/4 + (1 − ramp)·inv
        Rope r = rope(8, 64, "{\"rope_type\":\"yarn\",\"factor\":4}");
        assertArrayEquals(new float[]{1f, 0.0625f, 0.0025f, 0.00025f}, r.inverseFrequencies(16), 1e-8f);
        assertEquals(1.1386294361, r.attentionFactor(), 1e-9); // 0.1·ln 4 + 1
    }

    @Test
    void rotatesHalvesAgainstEachOther() {
        Rope r = rope(4, 64, null);
        float[] x = {9, 9, 9, 9, 1, 2, 3, 4}; // positions 0 and 1, one head
        r.rotate(x, 0, 1, r.table(2));
        double c1 = Math.cos(1), s1 = Math.sin(1), c2 = Math.cos(0.01), s2 = Math.sin(0.01);
        assertArrayEquals(new float[]{9, 9, 9, 9, (float) (c1 - 3 * s1), (float) (2 * c2 - 4 * s2), (float) (3 * c1 + s1),
                (float) (4 * c2 + 2 * s2)}, x, 1e-6f);
    }

    @Test
    void oddHeadDimIsRefused() {
        ObjectNode c = SyntheticModel.config(Architecture.LLAMA, 12, 8, 1, 4, 4, 10);
        c.put("head_dim", 3);
        ModelConfig config = ModelConfig.of(c, Path.of("odd/config.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rope.of(config));
        assertEquals("odd/config.json: head_dim 3 is odd; RoPE needs pairs", e.getMessage());
    }
}
