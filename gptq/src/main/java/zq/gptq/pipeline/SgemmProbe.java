package zq.gptq.pipeline;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * This machine's sgemm rate right now, through the same OpenBLAS call the runtime and the solver use: repeated
 * 1024×1024×1024 products for about the given time, best one counted (on a shared machine the best is the rate
 * the hardware gives when it is not interrupted).
 */
public final class SgemmProbe {
    private static final int N = 1024;

    private SgemmProbe() {}

    /** FLOP/s, measured for about {@code seconds} (at least three products). */
    public static double flopsPerSecond(double seconds) {
        try (OffHeapMatrix a = OffHeapMatrix.zeros(N, N); OffHeapMatrix b = OffHeapMatrix.zeros(N, N);
             OffHeapMatrix c = OffHeapMatrix.zeros(N, N)) {
            float[] values = new float[N * N];
            for (int i = 0; i < values.length; i++) values[i] = (i % 17 - 8) / 8f;
            a.write(values);
            b.write(values);
            Blas.gemm(1f, a, false, b, true, 0f, c); // warm-up: threads started, pages touched
            double best = Double.MAX_VALUE;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int i = 0; i < 3 || System.nanoTime() < end; i++) {
                long t0 = System.nanoTime();
                Blas.gemm(1f, a, false, b, true, 0f, c);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * N * N * N / best;
        }
    }
}
