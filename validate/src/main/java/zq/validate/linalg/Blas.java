package zq.validate.linalg;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one door to BLAS: fp32 matrix products on row-major float arrays, through ND4J's OpenBLAS.
 * Everything numeric in zq that is O(n^3) goes through here, so the backend stays a
 * one-class change.
 */
public final class Blas {
    private Blas() {}

    /** C[m×n] = A[m×k] · B[n×k]ᵀ: the product of activations with a Linear's [out, in] weight. */
    public static float[] matmulTransB(float[] a, int m, int k, float[] b, int n) {
        check(a, (long) m * k, "A");
        check(b, (long) n * k, "B");
        INDArray x = Nd4j.create(a, new long[]{m, k}, 'c');
        INDArray w = Nd4j.create(b, new long[]{n, k}, 'c');
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
        return c.data().asFloat();
    }

    /** C[m×n] = A[m×k] · B[k×n]. */
    public static float[] matmul(float[] a, int m, int k, float[] b, int n) {
        check(a, (long) m * k, "A");
        check(b, (long) k * n, "B");
        INDArray x = Nd4j.create(a, new long[]{m, k}, 'c');
        INDArray y = Nd4j.create(b, new long[]{k, n}, 'c');
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        Nd4j.gemm(x, y, c, false, false, 1.0, 0.0);
        return c.data().asFloat();
    }

    private static void check(float[] a, long expected, String what) {
        if (a.length != expected) {
            throw new IllegalArgumentException(what + " has " + a.length + " elements, expected " + expected);
        }
    }
}
