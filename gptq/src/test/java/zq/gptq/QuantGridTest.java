package zq.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantGridTest {
    private static final float[] W = {-0.7f, 0.3f, 1.4f, -0.2f};

    private static int[] codes(QuantGrid g, float[] w, QuantGrid.RowGrid rg) {
        int[] q = new int[w.length];
        for (int i = 0; i < w.length; i++) q[i] = g.code(w[i], rg.scale(), rg.zero());
        return q;
    }

    @Test
    void symmetricWorkedExample() {
        // docs/gptq.md, "The quantizer grid": scale 2.8/15, zero 8, w/scale = [-3.75, 1.607, 7.5, -1.071] -> [4, 10, 15, 7]
        QuantGrid g = new QuantGrid(15, true, false);
        QuantGrid.RowGrid rg = g.fit(W, 0, 4);
        assertEquals(2.8 / 15, rg.scale(), 1e-7);
        assertEquals(8, rg.zero());
        assertArrayEquals(new int[]{4, 10, 15, 7}, codes(g, W, rg));
        float[] expected = {-0.7467f, 0.3733f, 1.3067f, -0.1867f};
        for (int i = 0; i < 4; i++) assertEquals(expected[i], g.quantize(W[i], rg.scale(), rg.zero()), 1e-4);
    }

    @Test
    void asymmetricWorkedExample() {
        // docs/gptq.md, "The quantizer grid": scale 2.1/15 = 0.14, zero round(5.0) = 5, q = [0, 7, 15, 4]
        QuantGrid g = new QuantGrid(15, false, false);
        QuantGrid.RowGrid rg = g.fit(W, 0, 4);
        assertEquals(0.14, rg.scale(), 1e-7);
        assertEquals(5, rg.zero());
        assertArrayEquals(new int[]{0, 7, 15, 4}, codes(g, W, rg));
        float[] expected = {-0.7f, 0.28f, 1.4f, -0.14f};
        for (int i = 0; i < 4; i++) assertEquals(expected[i], g.quantize(W[i], rg.scale(), rg.zero()), 1e-6);
    }

    @Test
    void fitReadsOnlyTheGivenSlice() {
        float[] padded = {100f, -0.7f, 0.3f, 1.4f, -0.2f, -100f};
        QuantGrid g = new QuantGrid(15, false, false);
        assertEquals(g.fit(W, 0, 4), g.fit(padded, 1, 4));
    }

    @Test
    void roundsHalfToEvenBeforeAddingTheZero() {
        QuantGrid g = new QuantGrid(15, false, false);
        assertEquals(2, g.code(2.5f, 1f, 0));  // Math.round would give 3
        assertEquals(4, g.code(3.5f, 1f, 0));
        assertEquals(7, g.code(0.5f, 1f, 7));  // round(0.5) + 7, not round(7.5)
        assertEquals(8, g.code(7.5f, 1f, 0));
        assertEquals(8, g.code(-0.5f, 1f, 8)); // rint(-0.5) = -0
        // 0.25f / 0.1f is 2.5f in float32 (numpy agrees), which rounds to 2
        assertEquals(7, g.code(0.25f, 0.1f, 5));
        assertEquals(0, g.code(-100f, 1f, 8));
        assertEquals(15, g.code(100f, 1f, 8));
    }

    @Test
    void symmetricNonNegativeGroupKeepsZeroEightAndClips() {
        // xmin = 0 is not mirrored: scale = 1.5/15 = 0.1 but zero stays 8, so 1.5 clips to 7*0.1
        QuantGrid g = new QuantGrid(15, true, false);
        float[] w = {0f, 0.5f, 1.5f};
        QuantGrid.RowGrid rg = g.fit(w, 0, 3);
        assertEquals(0.1, rg.scale(), 1e-7);
        assertEquals(8, rg.zero());
        assertArrayEquals(new int[]{8, 13, 15}, codes(g, w, rg));
        assertEquals(0.7, g.quantize(1.5f, rg.scale(), rg.zero()), 1e-6);
    }

    @Test
    void allZeroGroupUsesMinusOneToOne() {
        float[] zeros = new float[5];
        QuantGrid.RowGrid sym = new QuantGrid(15, true, false).fit(zeros, 0, 5);
        assertEquals(2.0 / 15, sym.scale(), 1e-7);
        assertEquals(8, sym.zero());
        QuantGrid.RowGrid asym = new QuantGrid(15, false, false).fit(zeros, 0, 5);
        assertEquals(2.0 / 15, asym.scale(), 1e-7);
        // -xmin/scale = 1f / (2f/15) = 7.4999995f in float32 (numpy agrees), so the zero is 7, not 8
        assertEquals(7, asym.zero());
        assertEquals(0f, new QuantGrid(15, true, false).quantize(0f, sym.scale(), sym.zero()));
    }

    @Test
    void rangeAlwaysContainsZero() {
        // all positive, asym: xmin is clamped to 0, so zero = 0 and scale = max/15
        QuantGrid.RowGrid rg = new QuantGrid(15, false, false).fit(new float[]{3f, 1.5f}, 0, 2);
        assertEquals(0.2, rg.scale(), 1e-7);
        assertEquals(0, rg.zero());
        // all negative, asym: xmax is clamped to 0, zero = 15
        QuantGrid.RowGrid neg = new QuantGrid(15, false, false).fit(new float[]{-3f, -1.5f}, 0, 2);
        assertEquals(0.2, neg.scale(), 1e-7);
        assertEquals(15, neg.zero());
    }

    @Test
    void mseSearchPicksTheBestShrunkRange() {
        Random rnd = new Random(5);
        int shrunk = 0;
        for (boolean sym : new boolean[]{true, false}) {
            for (int trial = 0; trial < 20; trial++) {
                float[] x = new float[64];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                x[rnd.nextInt(64)] = 4f; // an outlier: shrinking may pay off
                QuantGrid.RowGrid got = new QuantGrid(15, sym, true).fit(x, 0, x.length);
                double[] want = bruteForceMse(x, sym);
                assertEquals(want[0], got.scale(), 1e-6 * want[0], "sym=" + sym + " trial " + trial);
                assertEquals((int) want[1], got.zero());
                QuantGrid.RowGrid plain = new QuantGrid(15, sym, false).fit(x, 0, x.length);
                assertTrue(got.scale() <= plain.scale());
                if (got.scale() < plain.scale()) shrunk++;
            }
        }
        assertTrue(shrunk > 0, "no trial shrank the range, so the search was not exercised");
    }

    /** The MSE search in float64: p = 1 - i/100 for i < 80, first strict minimum of sum |q - x|^2.4. */
    private static double[] bruteForceMse(float[] x, boolean sym) {
        double xmin = 0;
        double xmax = 0;
        for (float v : x) {
            xmin = Math.min(xmin, v);
            xmax = Math.max(xmax, v);
        }
        if (sym) {
            xmax = Math.max(-xmin, xmax);
            if (xmin < 0) xmin = -xmax;
        }
        double best = Double.POSITIVE_INFINITY;
        double[] arg = null;
        for (int i = 0; i < 80; i++) {
            double p = 1 - i / 100.0;
            double scale = (p * xmax - p * xmin) / 15;
            double zero = sym ? 8 : Math.rint(-p * xmin / scale);
            double err = 0;
            for (float v : x) {
                double q = Math.min(15, Math.max(0, Math.rint(v / scale) + zero));
                err += Math.pow(Math.abs(scale * (q - zero) - v), 2.4);
            }
            if (err < best) {
                best = err;
                arg = new double[]{scale, zero};
            }
        }
        return arg;
    }

    @Test
    void configRejectsUnsupportedSettings() {
        IllegalArgumentException bits = assertThrows(IllegalArgumentException.class,
                () -> new GptqConfig(8, 128, false, true, false, 0.01, 128, false));
        assertTrue(bits.getMessage().contains("bits=8"), bits.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GptqConfig(4, 0, false, true, false, 0.01, 128, false));
        assertThrows(IllegalArgumentException.class, () -> new GptqConfig(4, -2, false, true, false, 0.01, 128, false));
        assertThrows(IllegalArgumentException.class, () -> new GptqConfig(4, 128, false, true, false, 0, 128, false));
        assertThrows(IllegalArgumentException.class, () -> new GptqConfig(4, 128, false, true, false, 0.01, 0, false));
        IllegalArgumentException gs = assertThrows(IllegalArgumentException.class,
                () -> GptqConfig.recommended().checkInFeatures("model.layers.0.mlp.down_proj", 11000));
        assertTrue(gs.getMessage().contains("model.layers.0.mlp.down_proj")
                && gs.getMessage().contains("group_size 128 does not divide in_features 11000"), gs.getMessage());
        // group_size -1 is one group of all columns; 128 gives 4096 / 128 = 32 groups
        assertEquals(4096, new GptqConfig(4, -1, false, true, false, 0.01, 128, false).effectiveGroupSize(4096));
        assertEquals(128, GptqConfig.recommended().effectiveGroupSize(4096));
    }
}
