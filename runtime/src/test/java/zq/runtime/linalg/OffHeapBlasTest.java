package zq.runtime.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OffHeapBlasTest {
    private static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    @Test
    void gemmUpdatesAViewInPlace() {
        // C[2:7, 3:9] -= A(5×4)·B(6×4)ᵀ, the rest of C untouched: GPTQ's trailing-column update
        int rows = 9;
        int cols = 11;
        float[] c0 = random(rows * cols, 1);
        float[] a = random(5 * 4, 2);
        float[] b = random(6 * 4, 3);
        try (OffHeapMatrix c = OffHeapMatrix.copyOf(c0, rows, cols);
             OffHeapMatrix am = OffHeapMatrix.copyOf(a, 5, 4);
             OffHeapMatrix bm = OffHeapMatrix.copyOf(b, 6, 4)) {
            Blas.gemm(-1f, am, false, bm, true, 1f, c.view(2, 3, 5, 6));
            float[] got = c.toArray();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double want = c0[i * cols + j];
                    if (i >= 2 && i < 7 && j >= 3 && j < 9) {
                        for (int k = 0; k < 4; k++) want -= (double) a[(i - 2) * 4 + k] * b[(j - 3) * 4 + k];
                    }
                    assertEquals(want, got[i * cols + j], 1e-5, "at " + i + "," + j);
                }
            }
        }
    }

    @Test
    void gemmTransposedAOnViews() {
        float[] a = random(7 * 10, 4); // use A[1:6, 2:5] (5×3), transposed: 3×5
        float[] b = random(5 * 2, 5);
        try (OffHeapMatrix am = OffHeapMatrix.copyOf(a, 7, 10);
             OffHeapMatrix bm = OffHeapMatrix.copyOf(b, 5, 2);
             OffHeapMatrix c = OffHeapMatrix.zeros(3, 2)) {
            Blas.gemm(2f, am.view(1, 2, 5, 3), true, bm, false, 0f, c);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 2; j++) {
                    double want = 0;
                    for (int k = 0; k < 5; k++) want += 2.0 * a[(1 + k) * 10 + 2 + i] * b[k * 2 + j];
                    assertEquals(want, c.get(i, j), 1e-5);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Blas.gemm(1f, am, false, bm, false, 0f, c));
            assertTrue(e.getMessage().contains("do not match"), e.getMessage());
        }
    }

    @Test
    void syrkFillsTheLowerTriangleOnly() {
        int t = 13;
        int n = 6;
        float[] x = random(t * n, 6);
        try (OffHeapMatrix xm = OffHeapMatrix.copyOf(x, t, n);
             OffHeapMatrix c = OffHeapMatrix.copyOf(random(n * n, 7), n, n)) {
            float[] before = c.toArray();
            Blas.syrkLowerAtA(0.5f, xm, 2f, c);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double want = before[i * n + j];
                    if (j <= i) {
                        double s = 0;
                        for (int k = 0; k < t; k++) s += (double) x[k * n + i] * x[k * n + j];
                        want = 0.5 * s + 2 * want;
                    }
                    assertEquals(want, c.get(i, j), 1e-4, "at " + i + "," + j);
                }
            }
        }
    }

    @Test
    void trmmMultipliesAViewByTheLowerTriangleOfAnotherInPlace() {
        // B[1:5, 2:8] = L·B[1:5, 2:8], L the lower triangle of A[1:5, 1:5]; the garbage above A's diagonal is not read
        int n = 9;
        float[] a = random(7 * 7, 8);
        float[] b0 = random(6 * n, 9);
        try (OffHeapMatrix am = OffHeapMatrix.copyOf(a, 7, 7);
             OffHeapMatrix bm = OffHeapMatrix.copyOf(b0, 6, n)) {
            Blas.triangularMultiplyLower(am.view(1, 1, 4, 4), bm.view(1, 2, 4, 6));
            for (int i = 0; i < 6; i++) {
                for (int j = 0; j < n; j++) {
                    double want = b0[i * n + j];
                    if (i >= 1 && i < 5 && j >= 2 && j < 8) {
                        want = 0;
                        for (int k = 0; k <= i - 1; k++) want += (double) a[(1 + i - 1) * 7 + 1 + k] * b0[(1 + k) * n + j];
                    }
                    assertEquals(want, bm.get(i, j), 1e-5, "at " + i + "," + j);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> Blas.triangularMultiplyLower(am.view(0, 0, 3, 3), bm));
        }
    }

    @Test
    void viewsAndRowsAreBoundsChecked() {
        try (OffHeapMatrix m = OffHeapMatrix.zeros(4, 5)) {
            assertThrows(IndexOutOfBoundsException.class, () -> m.view(2, 0, 3, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> m.readRow(0, 3, new float[3], 0, 3));
            OffHeapMatrix v = m.view(1, 1, 2, 3);
            v.writeRow(1, 0, new float[]{1, 2, 3}, 0, 3);
            assertEquals(2f, m.get(2, 2));
            assertEquals(3, v.ld() - 2);
            assertThrows(IllegalArgumentException.class, () -> OffHeapMatrix.copyOf(new float[3], 2, 2));
        }
    }

    @Test
    void slicedZeroingClearsEveryElementAndNothingBeyond() {
        // large enough to take the parallel path, with a last slice shorter than the others
        long n = (1L << 22) + (1L << 21) + 12345;
        try (org.bytedeco.javacpp.FloatPointer p = new org.bytedeco.javacpp.FloatPointer(n + 16)) {
            float[] ones = new float[1 << 20];
            java.util.Arrays.fill(ones, 1f);
            for (long at = 0; at < n + 16; at += ones.length) {
                p.position(at).put(ones, 0, (int) Math.min(ones.length, n + 16 - at));
            }
            p.position(0);
            OffHeapMatrix.zero(p, n);
            float[] back = new float[ones.length];
            for (long at = 0; at < n; at += back.length) {
                int len = (int) Math.min(back.length, n - at);
                p.position(at).get(back, 0, len);
                for (int i = 0; i < len; i++) {
                    if (back[i] != 0f) throw new AssertionError("element " + (at + i) + " is " + back[i] + ", not 0");
                }
            }
            p.position(n).get(back, 0, 16);
            for (int i = 0; i < 16; i++) assertEquals(1f, back[i], "element " + (n + i) + " past the end was touched");
            p.position(0);
        }
    }
}
