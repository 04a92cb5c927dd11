package zq.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.SyntheticModel;
import zq.validate.Perplexity;
import zq.validate.PerplexityResult;
import zq.runtime.NativeWorkspace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Prefill speed of perplexity on a generated model of 7B layer width, against the sgemm rate ND4J reaches
 * on the same machine in the same run. A benchmark, not a test: it prints a report and asserts nothing.
 * ND4J is here only as the yardstick: an independent sgemm whose rate bounds what the runtime's own BLAS calls can reach.
 * <pre>ZQ_JAVA_OPTS=-Xmx12g ./zq bench runtime [--dir D] [--layers 2] [--seqlen 512] [--windows 8] [--runs 3]</pre>
 */
@Command(name = "runtime", mixinStandardHelpOptions = true,
        description = {"Perplexity prefill on a generated 7B-width model (hidden 4096, 32/8 heads, intermediate 13056, "
                + "vocab 32000): tokens/s and GFLOP/s against the ND4J sgemm rate of the same run. Run with ZQ_JAVA_OPTS=-Xmx12g."})
public final class PerplexityBenchmark implements Callable<Integer> {
    @Option(names = "--dir", description = "Where the generated model is written and reused (default: java.io.tmpdir).")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));

    @Option(names = "--layers", description = "Decoder layers (default ${DEFAULT-VALUE}).")
    int layers = 2;

    @Option(names = "--seqlen", description = "Tokens per window (default ${DEFAULT-VALUE}).")
    int seqLen = 512;

    @Option(names = "--windows", description = "Windows per run (default ${DEFAULT-VALUE}).")
    int windows = 8;

    @Option(names = "--runs", description = "Timed runs; the best counts (default ${DEFAULT-VALUE}).")
    int runs = 3;

    /** The model shape and the work to time. */
    public record Config(Path workDir, int hidden, int heads, int kvHeads, int intermediate, int layers, int vocab,
                         int seqLen, int windows, int runs) {

        /** The shape: hidden 4096, 32 heads, 8 KV heads, intermediate 13056, 2 layers, vocab 32000, seqlen 512. */
        public static Config sevenBWidth(Path workDir) {
            return new Config(workDir, 4096, 32, 8, 13056, 2, 32000, 512, 8, 3);
        }

        Path modelDir() {
            return workDir.resolve(String.format(Locale.ROOT, "zq-bench-h%d-a%d-kv%d-i%d-l%d-v%d", hidden, heads, kvHeads,
                    intermediate, layers, vocab));
        }

        int headDim() { return hidden / heads; }

        /** Floating-point operations of one perplexity run: the Linears, causal attention and the head on predicting rows. */
        double flops() {
            double t = seqLen, hd = headDim();
            double linearParams = (double) hidden * (heads + 2 * kvHeads) * hd + heads * hd * hidden + 3.0 * hidden * intermediate;
            double perWindowLayer = 2 * t * linearParams + 2.0 * heads * hd * t * (t + 1); // QKᵀ and PV over the causal triangle
            double head = 2 * (t - 1) * hidden * vocab;
            return windows * (layers * perWindowLayer + head);
        }
    }

    /**
     * @param fractionOfSgemm            the best run's rate against the best sgemm sample of the whole benchmark
     * @param bestFractionOfAdjacentSgemm the best over runs of a run's rate against the better of the sgemm samples
     *                                    taken just before and just after it, under the same load
     */
    public record Report(double seconds, long prefillTokens, double tokensPerSecond, double gflop, double gflopsAchieved,
                         double sgemmGflops, double fractionOfSgemm, double bestFractionOfAdjacentSgemm, double ppl) {}

    public static Report run(Config c, PrintStream out) throws IOException {
        Path dir = c.modelDir();
        if (!SyntheticModel.exists(dir)) {
            out.println("generating " + dir + " …");
            long t0 = System.nanoTime();
            ObjectNode cfg = SyntheticModel.config(Architecture.LLAMA, c.hidden(), c.intermediate(), c.layers(), c.heads(),
                    c.kvHeads(), c.vocab());
            SyntheticModel.write(dir, cfg, DType.BF16, 42);
            out.printf(Locale.ROOT, "  generated in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        // the machine may be shared: sgemm is sampled before and after each run, and the best rate is the reference;
        // each run is also set against the samples taken just before and after it, which saw the same load
        int rows = Math.min(c.seqLen() * c.windows(), 4096);
        double before = sgemmGflops(rows, c.hidden(), c.intermediate(), out), sgemm = before;
        double gflop = c.flops() / 1e9;

        int[] tokens = new int[c.seqLen() * c.windows()];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(c.vocab());
        double best = Double.MAX_VALUE, bestAdjacent = 0;
        PerplexityResult result = null;
        // run 1 pays the first touch of the native buffers; later runs, in the same memory, are the steady state of a
        // long run; the best of them counts, since a shared machine slows some runs down
        try (Checkpoint ck = Checkpoint.open(dir); NativeWorkspace workspace = new NativeWorkspace()) {
            ModelConfig mc = ck.config();
            out.printf(Locale.ROOT, "model: hidden %d, %d heads (%d KV), intermediate %d, %d layers, vocab %d; %d windows of %d%n",
                    mc.hiddenSize(), mc.numHeads(), mc.numKvHeads(), mc.intermediateSize(), mc.numLayers(), mc.vocabSize(),
                    c.windows(), c.seqLen());
            for (int run = 1; run <= c.runs(); run++) {
                long t0 = System.nanoTime();
                result = Perplexity.run(ck, tokens, Perplexity.Options.of(c.seqLen(), 0), workspace);
                double s = (System.nanoTime() - t0) / 1e9;
                double after = sgemmGflops(rows, c.hidden(), c.intermediate(), out);
                double adjacent = gflop / s / Math.max(before, after);
                out.printf(Locale.ROOT, "  run %d: %.2f s (ppl %.2f), %.1f GFLOP/s = %.1f %% of the sgemm samples around it%n",
                        run, s, result.ppl(), gflop / s, 100 * adjacent);
                best = Math.min(best, s);
                bestAdjacent = Math.max(bestAdjacent, adjacent);
                sgemm = Math.max(sgemm, after);
                before = after;
            }
        }
        long prefill = (long) c.seqLen() * c.windows();
        double achieved = gflop / best;
        Report rep = new Report(best, prefill, prefill / best, gflop, achieved, sgemm, achieved / sgemm, bestAdjacent, result.ppl());
        out.printf(Locale.ROOT, "prefill: %d tokens in %.2f s = %.1f tokens/s%n", prefill, best, rep.tokensPerSecond());
        out.printf(Locale.ROOT, "compute: %.1f GFLOP → %.1f GFLOP/s = %.1f %% of the best sgemm rate, %.1f GFLOP/s (target ≥ 60 %%)%n",
                gflop, achieved, 100 * rep.fractionOfSgemm(), sgemm);
        out.printf(Locale.ROOT, "         best run against the sgemm samples just before and after it: %.1f %%%n",
                100 * rep.bestFractionOfAdjacentSgemm());
        return rep;
    }

    /** Pure ND4J gemm on preallocated operands, the ceiling the runtime's Linears can reach: best of 5. */
    static double sgemmGflops(int m, int k, int n, PrintStream out) {
        INDArray a = Nd4j.rand(DataType.FLOAT, m, k), b = Nd4j.rand(DataType.FLOAT, n, k);
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, m, n);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            Nd4j.gemm(a, b, c, false, true, 1.0, 0.0);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        a.close();
        b.close();
        c.close();
        double rate = 2.0 * m * k * n / best / 1e9;
        out.printf(Locale.ROOT, "  sgemm [%d×%d]·[%d×%d]ᵀ: %.1f GFLOP/s%n", m, k, n, k, rate);
        return rate;
    }

    @Override public Integer call() throws IOException {
        Config d = Config.sevenBWidth(dir);
        for (int v : new int[]{layers, seqLen, windows, runs}) {
            if (v <= 0) throw new IllegalArgumentException("--layers, --seqlen, --windows and --runs must be positive");
        }
        run(new Config(dir, d.hidden(), d.heads(), d.kvHeads(), d.intermediate(), layers, d.vocab(), seqLen, windows, runs), System.out);
        return 0;
    }
}
