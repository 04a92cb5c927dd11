package zq.runtime;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Products through reused native slots against float64 loops, as the slots grow and shrink in use. */
class NativeWorkspaceTest {
    private static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /** x[n×k]·w[rows×k]ᵀ in float64. */
    private static void assertProduct(float[] x, int n, int k, float[] w, int rows, float[] got) {
        assertEquals(n * rows, got.length);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows; j++) {
                double want = 0;
                for (int p = 0; p < k; p++) want += (double) x[i * k + p] * w[j * k + p];
                assertEquals(want, got[i * rows + j], 1e-4, "at " + i + "," + j);
            }
        }
    }

    @Test void residentWeightsMultiplyBlocksOfEverySize() {
        try (NativeWorkspace ws = new NativeWorkspace()) {
            float[] big = random(9 * 16, 1), small = random(3 * 16, 2);
            NativeMatrix w = ws.load("w", big, 9, 16);
            for (int n : new int[]{5, 1, 12}) { // the activation slots grow, then are reused smaller
                float[] x = random(n * 16, n);
                assertProduct(x, n, 16, big, 9, w.multiplyTransposed(x, n));
            }
            NativeMatrix v = ws.load("w", small, 3, 16); // the same slot, now holding fewer rows
            float[] x = random(4 * 16, 7);
            float[] out = new float[4 * 3];
            v.multiplyTransposed(x, 4, out);
            assertProduct(x, 4, 16, small, 3, out);
        }
    }

    @Test void productWithAResidentMatrixWithOrWithoutTransposing() {
        try (NativeWorkspace ws = new NativeWorkspace()) {
            float[] a = random(6 * 4, 3), bt = random(5 * 4, 4);
            float[] out = new float[6 * 5];
            ws.multiply(a, 6, 4, ws.copyIn("bt", bt, 5, 4), true, out);
            assertProduct(a, 6, 4, bt, 5, out);
            // b as [k×n]: the same product with b laid out transposed
            float[] b = new float[4 * 5];
            for (int p = 0; p < 4; p++) for (int j = 0; j < 5; j++) b[p * 5 + j] = bt[j * 4 + p];
            float[] plain = new float[6 * 5];
            ws.multiply(a, 6, 4, ws.copyIn("b", b, 4, 5), false, plain);
            assertProduct(a, 6, 4, bt, 5, plain);
        }
    }

    @Test void mismatchedShapesAreRefused() {
        try (NativeWorkspace ws = new NativeWorkspace()) {
            NativeMatrix w = ws.load("w", new float[6], 2, 3);
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> w.multiplyTransposed(new float[7], 2));
            assertEquals("activations have 7 values, expected 2×3", x.getMessage());
            IllegalArgumentException out = assertThrows(IllegalArgumentException.class, () -> w.multiplyTransposed(new float[6], 2, new float[5]));
            assertEquals("output has 5 values, expected 2×2", out.getMessage());
            IllegalArgumentException load = assertThrows(IllegalArgumentException.class, () -> ws.load("w", new float[5], 2, 3));
            assertEquals("matrix has 5 values, expected 2×3", load.getMessage());
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> ws.matrix("m", 0, 3));
            assertEquals("matrix shape must be positive, got 0×3", empty.getMessage());
        }
    }
}
