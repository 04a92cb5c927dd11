package zq.runtime.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Products of Java arrays through native copies and {@link Blas#gemm}, and the bulk copies themselves, against float64 loops. */
class ArrayBlasTest {
    /** A[m×k] · B (B is [n×k] used transposed, or [k×n]) through native copies, as the runtime's slots do. */
    private static float[] product(float[] a, int m, int k, float[] b, int n, boolean transB) {
        try (OffHeapMatrix x = OffHeapMatrix.copyOf(a, m, k);
             OffHeapMatrix y = transB ? OffHeapMatrix.copyOf(b, n, k) : OffHeapMatrix.copyOf(b, k, n);
             OffHeapMatrix c = OffHeapMatrix.zeros(m, n)) {
            Blas.gemm(1f, x, false, y, transB, 0f, c);
            return c.toArray();
        }
    }

    private static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    @Test void matmulTransBIsActivationsTimesTransposedWeight() {
        int m = 7, k = 33, n = 5;
        float[] a = random(m * k, 1), b = random(n * k, 2);
        float[] c = product(a, m, k, b, n, true);
        assertEquals(m * n, c.length);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double want = 0;
                for (int p = 0; p < k; p++) want += (double) a[i * k + p] * b[j * k + p];
                assertEquals(want, c[i * n + j], 1e-4, "at " + i + "," + j);
            }
        }
    }

    @Test void matmulIsThePlainProduct() {
        int m = 4, k = 9, n = 6;
        float[] a = random(m * k, 3), b = random(k * n, 4);
        float[] c = product(a, m, k, b, n, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double want = 0;
                for (int p = 0; p < k; p++) want += (double) a[i * k + p] * b[p * n + j];
                assertEquals(want, c[i * n + j], 1e-4, "at " + i + "," + j);
            }
        }
        // a hand-worked 2×2: [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]
        assertArrayEquals(new float[]{19, 22, 43, 50}, product(new float[]{1, 2, 3, 4}, 2, 2, new float[]{5, 6, 7, 8}, 2, false));
    }

    @Test void operandsOfTheWrongSizeAreRefused() {
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> OffHeapMatrix.copyOf(new float[5], 2, 3));
        assertEquals("array has 5 elements, expected 2x3", a.getMessage());
        try (OffHeapMatrix x = OffHeapMatrix.zeros(2, 3); OffHeapMatrix y = OffHeapMatrix.zeros(2, 2);
             OffHeapMatrix c = OffHeapMatrix.zeros(2, 2)) {
            IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> Blas.gemm(1f, x, false, y, true, 0f, c));
            assertEquals("gemm shapes do not match: op(A) 2x3, op(B) 2x2, C 2x2", b.getMessage());
        }
    }

    @Test void bulkCopiesOfViewsAndReshapedMemory() {
        float[] src = new float[4 * 5];
        for (int i = 0; i < src.length; i++) src[i] = i;
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(src, 4, 5)) {
            // a strided view: rows 1..2, columns 2..4
            float[] got = new float[8];
            m.view(1, 2, 2, 3).read(got, 1);
            assertArrayEquals(new float[]{0, 7, 8, 9, 12, 13, 14, 0}, got);
            m.view(2, 0, 2, 2).write(new float[]{-1, -1, -2, -3, -4}, 1);
            assertEquals(-2f, m.get(2, 1));
            assertEquals(-3f, m.get(3, 0));
            assertEquals(12f, m.get(2, 2)); // outside the view: untouched
            // the first 6 elements as 3×2
            OffHeapMatrix r = m.reshape(3, 2);
            assertArrayEquals(new float[]{0, 1, 2, 3, 4, 5}, r.toArray());
            r.set(2, 1, 99f);
            assertEquals(99f, m.get(1, 0));

            IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> m.reshape(3, 7));
            assertEquals("cannot reshape 4x5 (20 elements) to 3x7", big.getMessage());
            IllegalStateException view = assertThrows(IllegalStateException.class, () -> r.reshape(1, 2));
            assertEquals("only a matrix that owns its memory can be reshaped, not a view", view.getMessage());
            IndexOutOfBoundsException span = assertThrows(IndexOutOfBoundsException.class, () -> m.read(new float[25], 6));
            assertEquals("4x5 values at offset 6 do not fit an array of 25", span.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> m.write(new float[20], -1));
        }
    }
}
