package zq.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * The factored H⁻¹ = UᵀU (one Cholesky of the reversed matrix, U's diagonal blocks, and the pulls C_S = R[&lt;S,S]·U[S,S]
 * with R = U⁻¹) against the float64 chain AutoGPTQ runs (chol, cholesky_inverse, chol upper:
 * {@link ReferenceGptq#upperCholeskyOfInverse}); C_S's float64 value comes from that U by a float64 triangular inverse.
 *
 * <p>Tolerance: 5e-5 of the scale {@link #relativeError} states. Float32 routes lose about n·ε·(a growth factor) to
 * rounding; on this 256-wide, strongly correlated Hessian U's diagonal blocks measured up to 1.9e-5 (the whole U of
 * the previous version 1.5e-5, 2.3e-5 with act-order; the reference's own float32 chain 1.4e-5, 1.1e-5) and C up to
 * 2.0e-6 of its terms. So 5e-5 leaves room for BLAS blocking differences while an error in the reflection, the
 * permutation or a block's offset (an O(1) difference, see {@link #theUnreversedFactorIsNotU} and
 * {@link #aPullFromTheWrongBlockIsFarOff}) cannot pass.
 */
class InverseHessianTest {
    private static final int N = 256;
    private static final Layers LAYER = new Layers(42, 64, N, 512);
    private static final double TOLERANCE = 5e-5;

    /** H[perm][perm] with dead diagonals set to 1 and {@code damp} added, in float64 from the float32 input. */
    private static double[][] prepared(float[] h, int n, int[] perm, float damp) {
        double[][] p = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) p[i][j] = h[perm[i] * n + perm[j]];
            float d = h[perm[i] * n + perm[i]];
            p[i][i] = (float) ((d == 0f ? 1f : d) + damp); // the solver adds damping in float32, so does this
        }
        return p;
    }

    /** The inverse of an upper triangular matrix, by back substitution in float64. */
    static double[][] upperInverse(double[][] u) {
        int n = u.length;
        double[][] r = new double[n][n];
        for (int j = 0; j < n; j++) {
            r[j][j] = 1 / u[j][j];
            for (int i = j - 1; i >= 0; i--) {
                double s = 0;
                for (int k = i + 1; k <= j; k++) s += u[i][k] * r[k][j];
                r[i][j] = -s / u[i][i];
            }
        }
        return r;
    }

    /** C[j][i] = Σ_{k in S} R[j][k]·U[k][i] for i in block S, j before S; 0 elsewhere. */
    static double[][] pulls(double[][] u, int block) {
        int n = u.length;
        double[][] r = upperInverse(u);
        double[][] c = new double[n][n];
        for (int o1 = block; o1 < n; o1 += block) {
            int o2 = Math.min(o1 + block, n);
            for (int j = 0; j < o1; j++) {
                for (int i = o1; i < o2; i++) {
                    double s = 0;
                    for (int k = o1; k <= i; k++) s += r[j][k] * u[k][i];
                    c[j][i] = s;
                }
            }
        }
        return c;
    }

    /**
     * The larger of U's error relative to max |U64| over the diagonal blocks, and C's error relative to the largest
     * Σ_k |R64[j][k]·U64[k][i]|, the size of the terms each entry of C sums: C cancels (on this Hessian its largest
     * entry is 0.7 where those sums reach 19), so its rounding error scales with the terms, not with C.
     */
    private static double relativeError(InverseHessian got, double[][] u) {
        int n = u.length;
        int block = got.blockColumns();
        double[][] r = upperInverse(u);
        double[][] c = pulls(u, block);
        double errU = 0, scaleU = 0, errC = 0, terms = 0;
        for (int i = 0; i < n; i++) {
            int start = i / block * block;
            for (int j = i; j < Math.min(start + block, n); j++) {
                errU = Math.max(errU, Math.abs(got.upper(i, j) - u[i][j]));
                scaleU = Math.max(scaleU, Math.abs(u[i][j]));
            }
            for (int j = 0; j < start; j++) {
                errC = Math.max(errC, Math.abs(got.carry(j, i) - c[j][i]));
                double t = 0;
                for (int k = start; k <= i; k++) t += Math.abs(r[j][k] * u[k][i]);
                terms = Math.max(terms, t);
            }
        }
        return Math.max(errU / scaleU, terms == 0 ? errC : errC / terms);
    }

    private static float meanDiagDamp(float[] h, int n, double fraction) {
        double s = 0;
        for (int i = 0; i < n; i++) s += h[i * n + i] == 0f ? 1f : h[i * n + i];
        return (float) (fraction * (s / n));
    }

    /** Blocks of 64 (four), of 96 (the last one shorter) and one block of all 256 columns, the whole U. */
    @Test
    void matchesTheFloat64ChainWithAndWithoutActOrder() {
        for (int block : new int[]{64, 96, 256})
        for (boolean descAct : new boolean[]{false, true}) {
            try (InverseHessian h = InverseHessian.of("t", LAYER.hessian, N, descAct, 0.01, 24, block)) {
                int[] perm = h.permutation();
                if (descAct) {
                    for (int p = 1; p < N; p++) {
                        assertTrue(LAYER.hessian[perm[p - 1] * N + perm[p - 1]] >= LAYER.hessian[perm[p] * N + perm[p]], "act-order");
                    }
                } else {
                    assertArrayEquals(IntStream.range(0, N).toArray(), perm);
                }
                double[][] u = ReferenceGptq.upperCholeskyOfInverse(prepared(LAYER.hessian, N, perm, meanDiagDamp(LAYER.hessian, N, 0.01)));
                double err = relativeError(h, u);
                assertTrue(err < TOLERANCE, "block " + block + ", descAct " + descAct + ": relative error " + err);
                assertEquals(1, h.dampAttempts());
            }
        }
    }

    /** n × n, row-major, element [i][j] = 1000·i + j: every element tells where it came from (exact in fp32 for n ≤ 1000). */
    static float[] numbered(int n) {
        float[] a = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) a[i * n + j] = i * 1000f + j;
        return a;
    }

    /** blockdiag([[1, 2], [2, 1]], …) of even width n, row-major: mean(diag) 1, eigenvalues 3 and −1. */
    static float[] indefinitePairs(int n) {
        float[] h = new float[n * n];
        for (int b = 0; b < n; b += 2) {
            h[b * n + b] = 1f;
            h[(b + 1) * n + b + 1] = 1f;
            h[b * n + b + 1] = 2f;
            h[(b + 1) * n + b] = 2f;
        }
        return h;
    }

    /** blockdiag([[1, 2], [2, 1]]) is indefinite (eigenvalues 3, −1): only damp fraction 1.28 = 0.01·2⁷ makes it definite. */
    @Test
    void aHessianThatNeedsExtraDampingIsFactoredAtTheRaisedDamping() {
        int n = 16;
        float[] h = indefinitePairs(n);
        h[4 * n + 4] = 0f; // a dead input too: its diagonal becomes 1 before damping
        h[4 * n + 5] = h[5 * n + 4] = 0f;
        try (InverseHessian f = InverseHessian.of("t", h, n, true, 0.01, 24, 6)) {
            assertEquals(8, f.dampAttempts());
            assertEquals(1.28, f.dampFraction(), 1e-12);
            assertEquals(1, f.deadCount());
            assertTrue(f.dead(4));
            double[][] u = ReferenceGptq.upperCholeskyOfInverse(prepared(h, n, f.permutation(), f.dampAbsolute()));
            double err = relativeError(f, u);
            assertTrue(err < TOLERANCE, "relative error " + err);
        }
    }

    /** Without the reversal, the inverse of H's own Cholesky factor, transposed, is upper triangular but not U. */
    @Test
    void theUnreversedFactorIsNotU() {
        int n = 64;
        Layers small = new Layers(7, 8, n, 256);
        double[][] hp = prepared(small.hessian, n, IntStream.range(0, n).toArray(), meanDiagDamp(small.hessian, n, 0.01));
        double[][] u = ReferenceGptq.upperCholeskyOfInverse(hp);
        double[][] l = ReferenceGptq.cholesky(hp);
        double diff = 0, scale = 0;
        for (int i = 0; i < n; i++) {
            // (L⁻ᵀ)[i][j] for j ≥ i is (L⁻¹)[j][i]; its diagonal is 1 / L[i][i]
            diff = Math.max(diff, Math.abs(1 / l[i][i] - u[i][i]));
            scale = Math.max(scale, Math.abs(u[i][i]));
        }
        assertTrue(diff / scale > 0.1, "L⁻ᵀ would pass as U: " + diff / scale);
        try (InverseHessian f = InverseHessian.of("t", small.hessian, n, false, 0.01, 24, 16)) {
            assertTrue(relativeError(f, u) < TOLERANCE);
        }
    }

    /** A pull that used the diagonal block of U of the block before (an off-by-one-block slip) is far from C. */
    @Test
    void aPullFromTheWrongBlockIsFarOff() {
        int n = 64;
        int block = 16;
        Layers small = new Layers(5, 8, n, 256);
        double[][] u = ReferenceGptq.upperCholeskyOfInverse(prepared(small.hessian, n, IntStream.range(0, n).toArray(),
                meanDiagDamp(small.hessian, n, 0.01)));
        double[][] r = upperInverse(u);
        double[][] c = pulls(u, block);
        double diff = 0, scale = 0;
        for (int i = 2 * block; i < 3 * block; i++) {
            for (int j = 0; j < 2 * block; j++) {
                double wrong = 0; // R[j][S]·U[S−1, S−1] instead of R[j][S]·U[S,S]
                for (int k = 0; k <= i - 2 * block; k++) wrong += r[j][2 * block + k] * u[block + k][i - block];
                diff = Math.max(diff, Math.abs(wrong - c[j][i]));
                scale = Math.max(scale, Math.abs(c[j][i]));
            }
        }
        assertTrue(diff / scale > 0.1, "the previous block's U would pass: " + diff / scale);
        try (InverseHessian f = InverseHessian.of("t", small.hessian, n, false, 0.01, 24, block)) {
            assertTrue(relativeError(f, u) < TOLERANCE);
        }
    }

    /**
     * From a native lower triangle whose upper triangle is NaN: nothing reads it (the finiteness check would refuse
     * it, and a NaN reaching the factorisation would fail the comparison), both for the anti-diagonal reflection
     * without act-order and for the gather with it.
     */
    @Test
    void theUpperTriangleOfANativeHessianIsNeverRead() {
        float[] lower = LAYER.hessian.clone();
        for (int i = 0; i < N; i++) for (int j = i + 1; j < N; j++) lower[i * N + j] = Float.NaN;
        for (boolean descAct : new boolean[]{false, true}) {
            try (InverseHessian h = InverseHessian.ofOwned("t", OffHeapMatrix.copyOf(lower, N, N), descAct, 0.01, 24, 96)) {
                double[][] u = ReferenceGptq.upperCholeskyOfInverse(prepared(LAYER.hessian, N, h.permutation(),
                        meanDiagDamp(LAYER.hessian, N, 0.01)));
                double err = relativeError(h, u);
                assertTrue(err < TOLERANCE, "descAct " + descAct + ": relative error " + err);
            }
        }
    }

    /**
     * The in-place reflection against the plain definition m'[a][b] = m[n−1−b][n−1−a] below the diagonal, at a width
     * of three tiles with a short last one (tiles off the diagonal and a partial diagonal tile are both met). Done
     * twice it must give the matrix back whole, upper triangle included: a retry after a failed triangular inverse
     * reflects back to find its copy of J·H·J there. Values are moved, not computed, so they must be equal exactly.
     */
    @Test
    void theReflectionIsTheDefinitionAndItsOwnInverse() {
        int n = 300;
        float[] a = numbered(n);
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, n, n)) {
            InverseHessian.reflectLower(m);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) assertEquals((n - 1 - j) * 1000f + (n - 1 - i), m.get(i, j), "[" + i + "][" + j + "]");
            }
            InverseHessian.reflectLower(m);
            assertArrayEquals(a, m.toArray(), "reflected twice");
        }
    }

    /**
     * A retry in place needs the undamped J·H·J again after {@code spotrf} overwrote the lower triangle: it comes back
     * from the copy in the strictly upper triangle, which this checks LAPACK left alone. 300 inputs are three tiles
     * of the copy (the last one short); the matrix is the indefinite blockdiag([[1, 2], [2, 1]]) with a dead input,
     * which needs eight attempts. Without the restore the seventh attempt would factor what the sixth left behind.
     */
    @Test
    void aRetryInPlaceFindsTheUndampedMatrixAgain() {
        int n = 300;
        float[] h = indefinitePairs(n);
        h[4 * n + 4] = 0f;
        h[4 * n + 5] = h[5 * n + 4] = 0f;
        float[] lower = h.clone();
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) lower[i * n + j] = Float.NaN;
        try (InverseHessian inPlace = InverseHessian.ofOwned("t", OffHeapMatrix.copyOf(lower, n, n), false, 0.01, 24, 96)) {
            assertEquals(8, inPlace.dampAttempts());
            assertEquals(1.28, inPlace.dampFraction(), 1e-12);
            double[][] u = ReferenceGptq.upperCholeskyOfInverse(prepared(h, n, inPlace.permutation(), inPlace.dampAbsolute()));
            assertTrue(relativeError(inPlace, u) < TOLERANCE);
        }
    }

    /** The copy between the triangles against its definition, both ways, at three tiles; the diagonal stays put. */
    @Test
    void theMirrorCopiesOneStrictTriangleOntoTheOther() {
        int n = 300;
        float[] a = numbered(n);
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, n, n)) {
            InverseHessian.mirror(m, true);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    float want = j <= i ? i * 1000f + j : j * 1000f + i;
                    assertEquals(want, m.get(i, j), "lower to upper [" + i + "][" + j + "]");
                }
            }
        }
        try (OffHeapMatrix m = OffHeapMatrix.copyOf(a, n, n)) {
            InverseHessian.mirror(m, false);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    float want = j >= i ? i * 1000f + j : j * 1000f + i;
                    assertEquals(want, m.get(i, j), "upper to lower [" + i + "][" + j + "]");
                }
            }
        }
    }
}
