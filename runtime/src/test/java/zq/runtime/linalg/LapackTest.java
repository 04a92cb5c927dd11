package zq.runtime.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LapackTest {

    /** A random SPD matrix A = BᵀB/m + I in float64, rounded to float. */
    private static float[] spd(int n, long seed) {
        Random rnd = new Random(seed);
        int m = n + 8;
        double[] b = new double[m * n];
        for (int i = 0; i < b.length; i++) b[i] = rnd.nextGaussian();
        float[] a = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = i == j ? 1 : 0;
                for (int k = 0; k < m; k++) s += b[k * n + i] * b[k * n + j] / m;
                a[i * n + j] = (float) s;
                a[j * n + i] = (float) s;
            }
        }
        return a;
    }

    @Test
    void choleskyAndTriangularInverseMatchFloat64() {
        int n = 300; // above OpenBLAS's blocking size, so the blocked code paths run
        float[] a = spd(n, 1);
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, n, n)) {
            assertEquals(0, Lapack.choleskyLower(m));
            float[] l = m.toArray();
            // L·Lᵀ = A on the lower triangle, computed in float64
            double maxErr = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int k = 0; k <= j; k++) s += (double) l[i * n + k] * l[j * n + k];
                    maxErr = Math.max(maxErr, Math.abs(s - a[i * n + j]));
                }
            }
            assertTrue(maxErr < 1e-4, "L·Lᵀ - A = " + maxErr);

            assertEquals(0, Lapack.triangularInverseLower(m));
            float[] inv = m.toArray();
            // L⁻¹·L = I on the lower triangle (both lower triangular), in float64
            double maxDev = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int k = j; k <= i; k++) s += (double) inv[i * n + k] * l[k * n + j];
                    maxDev = Math.max(maxDev, Math.abs(s - (i == j ? 1 : 0)));
                }
            }
            assertTrue(maxDev < 1e-4, "L⁻¹·L - I = " + maxDev);
        }
    }

    @Test
    void reportsTheFailingMinor() {
        // [[4, 2, 0], [2, 1, 0], [0, 0, 1]]: the leading 2×2 minor is singular (4·1 - 2·2 = 0)
        float[] a = {4, 2, 0, 2, 1, 0, 0, 0, 1};
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, 3, 3)) {
            assertEquals(2, Lapack.choleskyLower(m));
        }
    }

    @Test
    void rejectsNaNAndNonSquare() {
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(new float[]{1, 0, Float.NaN, 1}, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lapack.choleskyLower(m));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
        try (OffHeapMatrix m = OffHeapMatrix.zeros(2, 3)) {
            assertThrows(IllegalArgumentException.class, () -> Lapack.choleskyLower(m));
        }
    }

    @Test
    void largeFactorisationRunsOnItsOwnStack() {
        // 2048 wide: big enough that OpenBLAS LAPACK needs a deep stack; works whatever -Xss the test JVM has
        int n = 2048;
        Random rnd = new Random(3);
        float[] a = new float[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = 4f + rnd.nextFloat();
            if (i > 0) {
                a[i * n + i - 1] = 1f;
                a[(i - 1) * n + i] = 1f;
            }
        }
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, n, n)) {
            assertEquals(0, Lapack.choleskyLower(m));
            float l00 = m.get(0, 0), l10 = m.get(1, 0), l11 = m.get(1, 1);
            assertEquals(0, Lapack.triangularInverseLower(m));
            // row 1 of L⁻¹·L, column 0: x10·l00 + x11·l10 = 0, and x11·l11 = 1
            assertEquals(0.0, (double) m.get(1, 0) * l00 + (double) m.get(1, 1) * l10, 1e-5);
            assertEquals(1.0, (double) m.get(1, 1) * l11, 1e-5);
        }
    }
}
