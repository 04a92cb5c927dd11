package zq.runtime.linalg;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.openblas.global.openblas;

/**
 * The one door to LAPACK: fp32 Cholesky factorisation and inversion in place on native matrices,
 * through the OpenBLAS that ND4J bundles (never ND4J's own linalg ops, which fail or crawl).
 *
 * <p>Matrices are row-major and symmetric; only the lower triangle is read or written. A row-major
 * lower triangle is the column-major upper triangle of the same memory, so the calls go to LAPACKE in
 * column-major form with the triangle flipped: no transposed copy is made.
 *
 * <p>OpenBLAS's LAPACK crashes the JVM on large matrices when the calling thread has a small stack
 * (docs/blas.md, "LAPACK and the native stack": sgetrf/sgetri at n=4096 die below -Xss8m). Every call therefore runs on a
 * fresh thread with a {@value #STACK_BYTES}-byte stack, whatever -Xss the JVM was given.
 */
public final class Lapack {
    static final long STACK_BYTES = 64L << 20;

    private Lapack() {}

    /**
     * Cholesky factorisation A = L·Lᵀ of the lower triangle of a square matrix, in place.
     *
     * @return 0 on success, or k &gt; 0 when the leading k×k minor is not positive definite
     *         (the matrix is then partly overwritten)
     */
    public static int choleskyLower(OffHeapMatrix a) {
        int n = square(a, "Cholesky");
        return check(onLargeStack(() -> openblas.LAPACKE_spotrf(
                openblas.LAPACK_COL_MAJOR, (byte) 'U', n, a.at(0, 0), a.ld())), "spotrf");
    }

    /**
     * Overwrites the lower triangle (diagonal included) of a square matrix with that of its inverse; the matrix is
     * read as lower triangular with a non-unit diagonal, and the upper triangle is neither read nor written.
     *
     * @return 0 on success, or k &gt; 0 when the k-th diagonal element is exactly zero (singular)
     */
    public static int triangularInverseLower(OffHeapMatrix a) {
        int n = square(a, "triangular inverse");
        return check(onLargeStack(() -> openblas.LAPACKE_strtri(
                openblas.LAPACK_COL_MAJOR, (byte) 'U', (byte) 'N', n, a.at(0, 0), a.ld())), "strtri");
    }

    private static int square(OffHeapMatrix a, String what) {
        if (a.rows() != a.cols()) {
            throw new IllegalArgumentException(what + " needs a square matrix, got " + a.rows() + "x" + a.cols());
        }
        return a.rows();
    }

    private static int check(int info, String routine) {
        if (info < 0) {
            // LAPACKE reports NaN input as an illegal 4th argument (its NaN check)
            throw new IllegalArgumentException(routine + " rejected argument " + (-info)
                    + (info == -4 ? " (the matrix contains NaN)" : ""));
        }
        return info;
    }

    /** Runs a native call on a thread with a large stack and returns its result. */
    static <T> T onLargeStack(Callable<T> task) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                result.set(task.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "zq-lapack", STACK_BYTES);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the native call cannot be stopped; wait for it, then restore the flag
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable e = failure.get();
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException(e);
        return result.get();
    }
}
