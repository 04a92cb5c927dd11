package zq.runtime.linalg;

import org.bytedeco.openblas.global.openblas;

/**
 * The one door to BLAS: fp32 matrix products in place on native {@link OffHeapMatrix} operands, straight
 * to OpenBLAS through its JavaCPP binding (docs/blas.md says why not through ND4J). Everything numeric in zq that is O(n^3) goes through here, so the backend stays
 * a one-class change.
 */
public final class Blas {
    private Blas() {}

    /**
     * C = alpha·op(A)·op(B) + beta·C in place on native matrices or views, where op(X) is X or Xᵀ.
     * This is the path for repeated updates of a large operand (GPTQ's lazy block updates): nothing is
     * copied, the views' row strides go to sgemm as leading dimensions.
     */
    public static void gemm(float alpha, OffHeapMatrix a, boolean transA, OffHeapMatrix b, boolean transB,
                            float beta, OffHeapMatrix c) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (k != kb || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shapes do not match: op(A) " + m + "x" + k + ", op(B) " + kb + "x" + n
                    + ", C " + c.rows() + "x" + c.cols());
        }
        openblas.cblas_sgemm(openblas.CblasRowMajor,
                transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans,
                m, n, k, alpha, a.at(0, 0), a.ld(), b.at(0, 0), b.ld(), beta, c.at(0, 0), c.ld());
    }

    /**
     * B = L·B in place, with L the lower triangle (diagonal included) of the square matrix {@code lower}; its strictly
     * upper triangle is not read. Half the work of a gemm by a full square, and no copy of B.
     */
    public static void triangularMultiplyLower(OffHeapMatrix lower, OffHeapMatrix b) {
        if (lower.rows() != lower.cols() || lower.rows() != b.rows()) {
            throw new IllegalArgumentException("trmm shapes do not match: L " + lower.rows() + "x" + lower.cols() + ", B "
                    + b.rows() + "x" + b.cols());
        }
        openblas.cblas_strmm(openblas.CblasRowMajor, openblas.CblasLeft, openblas.CblasLower, openblas.CblasNoTrans,
                openblas.CblasNonUnit, b.rows(), b.cols(), 1f, lower.at(0, 0), lower.ld(), b.at(0, 0), b.ld());
    }

    /**
     * The lower triangle of C = alpha·Aᵀ·A + beta·C (C is n×n, A is t×n), via ssyrk: half the work of a gemm.
     * The strictly upper triangle of C is not touched.
     */
    public static void syrkLowerAtA(float alpha, OffHeapMatrix a, float beta, OffHeapMatrix c) {
        int n = a.cols();
        if (c.rows() != n || c.cols() != n) {
            throw new IllegalArgumentException("syrk: C is " + c.rows() + "x" + c.cols() + ", expected " + n + "x" + n);
        }
        openblas.cblas_ssyrk(openblas.CblasRowMajor, openblas.CblasLower, openblas.CblasTrans,
                n, a.rows(), alpha, a.at(0, 0), a.ld(), beta, c.at(0, 0), c.ld());
    }
}
