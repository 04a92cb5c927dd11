package zq.gptq.pipeline;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * This machine's sgemm rate right now, through the same OpenBLAS call the runtime and the solver use. Two
 * yardsticks: the best of repeated 1024³ products (the rate the hardware gives a short product when it is not
 * interrupted) and the mean over back-to-back 4096³ products (what a minutes-long run of the solver's and the
 * forward's large products can sustain; on the 2-core test machine about 160 GFLOP/s against about 200 for the first,
 * as clocks settle under sustained load).
 */
public final class SgemmProbe {
    private SgemmProbe() {}

    /** FLOP/s of the best 1024³ product, measured for about {@code seconds} (at least three products). */
    public static double flopsPerSecond(double seconds) {
        return probe(1024, seconds, true);
    }

    /** FLOP/s over back-to-back 4096³ products for about {@code seconds} (at least two), total work over total time. */
    public static double sustainedFlopsPerSecond(double seconds) {
        return probe(4096, seconds, false);
    }

    private static double probe(int n, double seconds, boolean best) {
        try (OffHeapMatrix a = OffHeapMatrix.zeros(n, n); OffHeapMatrix b = OffHeapMatrix.zeros(n, n);
             OffHeapMatrix c = OffHeapMatrix.zeros(n, n)) {
            float[] values = new float[n * n];
            for (int i = 0; i < values.length; i++) values[i] = (i % 17 - 8) / 8f;
            a.write(values);
            b.write(values);
            Blas.gemm(1f, a, false, b, true, 0f, c); // warm-up: threads started, pages touched
            double fastest = Double.MAX_VALUE;
            int products = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            for (int i = 0; i < (best ? 3 : 2) || System.nanoTime() < end; i++) {
                long t0 = System.nanoTime();
                Blas.gemm(1f, a, false, b, true, 0f, c);
                fastest = Math.min(fastest, (System.nanoTime() - t0) / 1e9);
                products++;
            }
            double flops = 2.0 * n * n * n;
            return best ? flops / fastest : flops * products / ((System.nanoTime() - start) / 1e9);
        }
    }
}
