package zq.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import zq.gptq.GptqConfig;
import zq.gptq.GptqSolver;
import zq.gptq.QuantizedLinear;
import zq.gptq.hessian.CpuHessian;
import zq.gptq.hessian.HessianAccumulator;
import zq.gptq.hessian.OpenClHessian;
import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * Throughput of the GPTQ numerical core on generated layers of Llama-7B widths: Hessian accumulation
 * (CPU BLAS, and OpenCL when a device exists) against the sgemm rate measured in the same run, and
 * the solve time per layer shape. Run with a large heap and stack, e.g.
 * {@code ZQ_JAVA_OPTS=-Xmx24g ./zq bench hessian --scale 4 --tokens 2048}.
 */
@Command(name = "hessian", mixinStandardHelpOptions = true,
        description = {"Hessian accumulation (CPU BLAS and OpenCL) and GPTQ solve time for 7B-width layer shapes: "
                + "GFLOP/s against the sgemm rate of the same run."})
public final class GptqBenchmark implements Callable<Integer> {
    @Option(names = "--tokens", description = "Calibration tokens (default ${DEFAULT-VALUE} = 32×512).")
    int tokens = 32 * 512;

    @Option(names = "--batch", description = "Tokens per add() (default ${DEFAULT-VALUE}).")
    int batch = 512;

    @Option(names = "--scale", description = "Divide every layer dimension by this, rounded to a multiple of 128 (default ${DEFAULT-VALUE}).")
    int scale = 1;

    @Option(names = "--shapes", paramLabel = "INxOUT,...",
            description = "Layer shapes (default: Llama-7B q/k/v fused, o, gate/up, down: 4096x6144,4096x4096,4096x13056,13056x4096).")
    String shapes;

    @Option(names = "--no-opencl", negatable = false, description = "Skip the OpenCL Hessian.")
    boolean noOpenCl;

    @Option(names = "--no-solve", negatable = false, description = "Skip the GPTQ solve.")
    boolean noSolve;

    @Option(names = "--group-size", description = "Columns per quantization group (default ${DEFAULT-VALUE}).")
    int groupSize = GptqConfig.recommended().groupSize();

    @Option(names = "--desc-act", description = "Act-order: quantize columns by decreasing Hessian diagonal.")
    boolean descAct;

    @Override public Integer call() {
        run(Options.of(tokens, batch, scale, shapes, !noOpenCl, !noSolve, groupSize, descAct), System.out);
        return 0;
    }

    /** A Linear layer shape: in_features → out_features. */
    public record Shape(int in, int out) {
        @Override
        public String toString() {
            return in + "->" + out;
        }
    }

    public record Options(List<Shape> shapes, int tokens, int batchTokens, boolean openCl, boolean solve,
                          GptqConfig config, long seed) {
        /** Llama-7B-like widths (q/k/v fused, o, gate/up, down) with 32×512 tokens. */
        public static Options defaults() {
            return new Options(List.of(new Shape(4096, 6144), new Shape(4096, 4096), new Shape(4096, 13056),
                    new Shape(13056, 4096)), 32 * 512, 512, true, true, GptqConfig.recommended(), 1);
        }

        public static Options of(int tokens, int batch, int scale, String shapeList, boolean openCl, boolean solve,
                                 int groupSize, boolean descAct) {
            Options o = defaults();
            positive("--tokens", tokens);
            positive("--batch", batch);
            positive("--scale", scale);
            List<Shape> shapes = shapeList == null ? o.shapes : parseShapes(shapeList);
            List<Shape> scaled = new ArrayList<>();
            for (Shape s : shapes) scaled.add(new Shape(shrink(s.in, scale), shrink(s.out, scale)));
            GptqConfig cfg = new GptqConfig(4, groupSize, descAct, true, false, GptqConfig.DEFAULT_DAMP_PERCENT,
                    GptqConfig.DEFAULT_BLOCK_SIZE, false);
            return new Options(scaled, tokens, Math.min(batch, tokens), openCl, solve, cfg, o.seed);
        }

        private static int shrink(int dim, int scale) {
            return Math.max(128, Math.round(dim / (float) scale / 128) * 128);
        }

        private static void positive(String opt, int v) {
            if (v <= 0) throw new IllegalArgumentException(opt + " must be positive, got " + v);
        }

        private static List<Shape> parseShapes(String spec) {
            List<Shape> out = new ArrayList<>();
            for (String s : spec.split(",")) {
                String[] p = s.trim().split("x");
                if (p.length != 2) throw new IllegalArgumentException("shape '" + s + "' is not INxOUT");
                out.add(new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1])));
            }
            return out;
        }
    }

    /** Runs the benchmark and prints a report. */
    public static void run(Options o, PrintStream out) {
        out.printf(Locale.ROOT, "GPTQ benchmark: %d tokens in batches of %d, %d CPUs, OPENBLAS_NUM_THREADS=%s, %s%n",
                o.tokens, o.batchTokens, Runtime.getRuntime().availableProcessors(),
                System.getenv("OPENBLAS_NUM_THREADS"), o.config);
        double squareRate = sgemmRate(2048, 2048, 2048, false);
        out.printf(Locale.ROOT, "sgemm 2048^3 (Blas.gemm, off-heap): %.1f GFLOP/s%n", squareRate);

        OpenClHessian.class.getName(); // fail here, not mid-run, if Aparapi is missing from the class path
        List<com.aparapi.device.OpenCLDevice> clDevices = o.openCl ? openClDevices() : List.of();
        if (o.openCl) {
            out.println(clDevices.isEmpty() ? "OpenCL: no device, skipped" : "OpenCL device: " + clDevices.get(0).getShortDescription()
                    + " " + clDevices.get(0).getName());
        }

        Map<Integer, float[]> hessians = new LinkedHashMap<>();
        for (Shape s : o.shapes) {
            if (hessians.containsKey(s.in)) continue;
            float[][] batches = batches(o, s.in);
            double flops = 2.0 * o.tokens * s.in * (double) s.in;
            double gemmRate = sgemmRate(s.in, s.in, o.batchTokens, true);
            long t0 = System.nanoTime();
            float[] h;
            try (HessianAccumulator acc = new CpuHessian(s.in)) {
                feed(acc, batches, o);
                h = acc.hessian();
            }
            double cpuSec = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "Hessian in=%d: CPU ssyrk %.2f s = %.1f GFLOP/s (gemm-equivalent 2*N*in^2), "
                            + "sgemm at this shape (%dx%dx%d) %.1f GFLOP/s, ratio %.2f%n",
                    s.in, cpuSec, flops / cpuSec / 1e9, s.in, s.in, o.batchTokens, gemmRate, flops / cpuSec / 1e9 / gemmRate);
            if (!clDevices.isEmpty()) {
                try (HessianAccumulator acc = new OpenClHessian(clDevices.get(0), s.in)) {
                    acc.add(batches[0], o.batchTokens, s.in); // first call compiles the kernel
                }
                long c0 = System.nanoTime();
                float[] hc;
                try (HessianAccumulator acc = new OpenClHessian(clDevices.get(0), s.in)) {
                    feed(acc, batches, o);
                    hc = acc.hessian();
                }
                double clSec = (System.nanoTime() - c0) / 1e9;
                out.printf(Locale.ROOT, "Hessian in=%d: OpenCL %.2f s = %.1f GFLOP/s, ratio to sgemm %.2f, "
                                + "max rel. diff to CPU %.1e%n",
                        s.in, clSec, flops / clSec / 1e9, flops / clSec / 1e9 / gemmRate, maxRelDiff(hc, h));
            }
            hessians.put(s.in, h);
        }

        if (!o.solve) return;
        GptqSolver solver = new GptqSolver(o.config);
        Random rnd = new Random(o.seed);
        for (Shape s : o.shapes) {
            float[] w = new float[s.out * s.in];
            for (int i = 0; i < w.length; i++) w[i] = (float) (0.02 * rnd.nextGaussian());
            QuantizedLinear q = solver.quantize("bench " + s, w, s.out, s.in, hessians.get(s.in));
            double gemmFlops = (double) s.out * s.in * s.in; // lazy block updates: ~2·out·in²/2
            out.printf(Locale.ROOT, "GPTQ %s: %.2f s (Cholesky chain %.2f s, damp %s x%d), block-update flops %.0f G, loss %.4g%n",
                    s, q.report().totalSeconds(), q.report().factorSeconds(), q.report().dampPercentUsed(),
                    q.report().dampAttempts(), gemmFlops / 1e9, q.report().loss());
        }
    }

    private static List<com.aparapi.device.OpenCLDevice> openClDevices() {
        try {
            return List.of(OpenClHessian.bestDevice());
        } catch (IllegalStateException e) {
            return List.of();
        }
    }

    /** A few distinct batches of correlated activations, cycled over to reach the token count. */
    private static float[][] batches(Options o, int in) {
        Random rnd = new Random(o.seed + in);
        int distinct = Math.min(4, (o.tokens + o.batchTokens - 1) / o.batchTokens);
        float[][] b = new float[distinct][o.batchTokens * in];
        for (float[] x : b) {
            for (int t = 0; t < o.batchTokens; t++) {
                float shared = (float) rnd.nextGaussian();
                for (int j = 0; j < in; j++) x[t * in + j] = shared + (float) rnd.nextGaussian();
            }
        }
        return b;
    }

    private static void feed(HessianAccumulator acc, float[][] batches, Options o) {
        int done = 0;
        for (int i = 0; done < o.tokens; i++) {
            int rows = Math.min(o.batchTokens, o.tokens - done);
            float[] x = batches[i % batches.length];
            if (rows < o.batchTokens) x = java.util.Arrays.copyOf(x, rows * acc.features());
            acc.add(x, rows, acc.features());
            done += rows;
        }
    }

    /** Best of three: C[m×n] = op(A)·B with k inner, through Blas.gemm on native memory. */
    private static double sgemmRate(int m, int n, int k, boolean transA) {
        try (OffHeapMatrix a = transA ? OffHeapMatrix.zeros(k, m) : OffHeapMatrix.zeros(m, k);
             OffHeapMatrix b = OffHeapMatrix.zeros(k, n);
             OffHeapMatrix c = OffHeapMatrix.zeros(m, n)) {
            Random rnd = new Random(3);
            fill(a, rnd);
            fill(b, rnd);
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                Blas.gemm(1f, a, transA, b, false, 0f, c);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * m * n * (double) k / best / 1e9;
        }
    }

    private static void fill(OffHeapMatrix m, Random rnd) {
        float[] row = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            for (int j = 0; j < row.length; j++) row[j] = (float) rnd.nextGaussian();
            m.writeRow(r, 0, row, 0, row.length);
        }
    }

    private static double maxRelDiff(float[] a, float[] b) {
        double d = 0;
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
            m = Math.max(m, Math.abs(b[i]));
        }
        return d / m;
    }
}
