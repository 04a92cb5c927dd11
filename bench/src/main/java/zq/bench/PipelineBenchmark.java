package zq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.OutputFolder;
import zq.formats.SyntheticModel;
import zq.gptq.GptqConfig;
import zq.gptq.hessian.HessianBackend;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.QuantizeMethod;
import zq.gptq.pipeline.SgemmProbe;
import zq.gptq.pipeline.WorkEstimate;

/**
 * The real {@code zq quantize}, end to end, on a generated 360Zhinao2-7B-shaped checkpoint (hidden 4096, 32/8 heads,
 * intermediate 13056, vocab 158464, BF16 in shards of 5 GB; {@code --layers N} decoder layers, 32 in the real model),
 * in a child JVM started as the {@code zq} launcher starts one (no heap option unless ZQ_JAVA_OPTS gives one), so that
 * its peak RSS is what a user sees. Calibration: exactly nsamples·seqlen seeded random token ids, so every token is
 * used once. The checkpoint is generated once per shape and reused.
 *
 * <p>Against: the ideal time, the run's FLOPs ({@link WorkEstimate}: one forward over the calibration tokens, the
 * Hessians, the factorisations and column loops) divided by the sgemm rate ({@link SgemmProbe}) measured just before
 * and just after the run, the better of the two (the machine may be shared). The layer loop is set against the
 * ideal on its own too, since embedding and head conversion (2.6 GB at this vocabulary) weigh on a one-layer model
 * but not on 32 layers.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"The real zq quantize, end to end in a child JVM, on a generated 360Zhinao2-7B-shaped checkpoint of N "
                + "layers (generated once, reused): wall, time per phase, peak RSS, against the ideal time from the run's FLOPs "
                + "and the sgemm rate of the same run."})
public final class PipelineBenchmark implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", paramLabel = "zhinao-7b|llama-7b", description = "Shape to generate (default ${DEFAULT-VALUE}).")
    String model = "zhinao-7b";

    @Option(names = "--layers", description = "Decoder layers of the generated model (default ${DEFAULT-VALUE}; the real model has 32).")
    int layers = 1;

    @Option(names = "--nsamples", split = ",", paramLabel = "N,...", description = "Calibration windows, one run each (default 16).")
    List<Integer> nsamples = List.of(16);

    @Option(names = "--seqlen", description = "Tokens per calibration window (default ${DEFAULT-VALUE}).")
    int seqlen = 512;

    @Option(names = "--group-size", description = "Columns per quantization group (default ${DEFAULT-VALUE}).")
    int groupSize = 128;

    @Option(names = "--hessian", paramLabel = "auto|opencl|cpu", description = "Hessian backend (default ${DEFAULT-VALUE}).")
    String hessian = "cpu";

    @Option(names = "--dir", description = "Where models are generated and reused (default: java.io.tmpdir/zq-pipeline-bench).")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "zq-pipeline-bench");

    @Option(names = "--scale", description = "Divide every width, the heads and the vocabulary by this, for a quick check (default ${DEFAULT-VALUE}).")
    int scale = 1;

    /** Model shape and run settings. */
    public record Options(Architecture arch, int hidden, int intermediate, int heads, int kvHeads, int vocab, int layers,
                          List<Integer> nsamples, int seqlen, int groupSize, HessianBackend hessian, Path dir) {

        Path modelDir() {
            return dir.resolve(String.format(Locale.ROOT, "%s-h%d-i%d-v%d-l%d", arch.modelType(), hidden, intermediate, vocab, layers));
        }
    }

    private Options options() {
        for (int v : List.of(scale, layers, seqlen)) if (v <= 0) throw new IllegalArgumentException("--scale, --layers and --seqlen must be positive");
        for (int n : nsamples) if (n <= 0) throw new IllegalArgumentException("--nsamples must be positive, got " + n);
        HessianBackend h = HessianBackend.parse(hessian);
        return switch (model) {
            case "zhinao-7b" -> new Options(Architecture.ZHINAO, shrink(4096), shrink(13056), Math.max(1, 32 / scale),
                    Math.max(1, 8 / scale), Math.max(256, 158464 / scale), layers, nsamples, seqlen, groupSize, h, dir);
            case "llama-7b" -> new Options(Architecture.LLAMA, shrink(4096), shrink(11008), Math.max(1, 32 / scale),
                    Math.max(1, 32 / scale), Math.max(256, 32000 / scale), layers, nsamples, seqlen, groupSize, h, dir);
            default -> throw new IllegalArgumentException("--model must be zhinao-7b or llama-7b, got " + model);
        };
    }

    private int shrink(int width) { return Math.max(128, Math.round((float) width / scale / 128) * 128); }

    /** One run's measurements. */
    public record Result(int nsamples, double wallSeconds, double layerLoopSeconds, JsonNode phases, double forwardsPerLayer,
                         long peakRssBytes, long peakHeapBytes, WorkEstimate work, double sgemmFlopsPerSecond,
                         double sustainedSgemmFlopsPerSecond) {
        double idealSeconds() { return work.seconds(sgemmFlopsPerSecond); }
        double sustainedIdealSeconds() { return work.seconds(sustainedSgemmFlopsPerSecond); }
        /** The ideal in the count README's target is stated in ({@link WorkEstimate#wholeInverseSolveFlops}). */
        double targetIdealSeconds() { return work.wholeInverseTotalFlops() / sgemmFlopsPerSecond; }
        double sustainedTargetIdealSeconds() { return work.wholeInverseTotalFlops() / sustainedSgemmFlopsPerSecond; }
    }

    @Override public Integer call() throws Exception {
        Options o = options();
        PrintStream out = System.out;
        Path model = o.modelDir();
        if (!SyntheticModel.exists(model)) {
            out.println("generating " + model + " (once; reused by later runs) …");
            long t0 = System.nanoTime();
            SyntheticModel.write(model, SyntheticModel.config(o.arch(), o.hidden(), o.intermediate(), o.layers(), o.heads(), o.kvHeads(),
                    o.vocab()), DType.BF16, 7);
            out.printf(Locale.ROOT, "  generated in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        out.printf(Locale.ROOT, "zq quantize on %s: %s-shaped, %d layers, hidden %d, %d/%d heads, intermediate %d, vocab %d, BF16; "
                        + "GPTQ 4 bit g%d sym true-sequential, Hessians %s; %d CPUs, OPENBLAS_NUM_THREADS=%s, OPENBLAS_THREAD_TIMEOUT=%s, GLIBC_TUNABLES=%s%n",
                model, o.arch().modelType(), o.layers(), o.hidden(), o.heads(), o.kvHeads(), o.intermediate(), o.vocab(), o.groupSize(),
                o.hessian().name().toLowerCase(Locale.ROOT), Runtime.getRuntime().availableProcessors(), System.getenv("OPENBLAS_NUM_THREADS"),
                System.getenv("OPENBLAS_THREAD_TIMEOUT"), System.getenv("GLIBC_TUNABLES"));
        List<Result> results = new ArrayList<>();
        for (int n : o.nsamples()) results.add(run(o, model, n, out));
        out.println();
        out.println("| calibration | wall s | layer loop s | ideal s | ideal / layer loop | ideal / wall | target ideal / layer loop "
                + "| read | forward | hessian | solve | pack | write | forwards/layer | peak RSS GB | peak heap GB | sgemm GFLOP/s "
                + "| sustained sgemm GFLOP/s | sustained ideal / layer loop | sustained target ideal / layer loop |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            JsonNode p = r.phases();
            out.printf(Locale.ROOT, "| %d×%d | %.1f | %.1f | %.1f | %.0f %% | %.0f %% | %.0f %% | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f %% | %.0f %% |%n",
                    r.nsamples(), o.seqlen(), r.wallSeconds(), r.layerLoopSeconds(), r.idealSeconds(),
                    100 * r.idealSeconds() / r.layerLoopSeconds(), 100 * r.idealSeconds() / r.wallSeconds(),
                    100 * r.targetIdealSeconds() / r.layerLoopSeconds(),
                    p.path("read").asDouble(), p.path("forward").asDouble(), p.path("hessian").asDouble(), p.path("solve").asDouble(),
                    p.path("pack").asDouble(), p.path("write").asDouble(), r.forwardsPerLayer(), r.peakRssBytes() / 1e9,
                    r.peakHeapBytes() / 1e9, r.sgemmFlopsPerSecond() / 1e9, r.sustainedSgemmFlopsPerSecond() / 1e9,
                    100 * r.sustainedIdealSeconds() / r.layerLoopSeconds(), 100 * r.sustainedTargetIdealSeconds() / r.layerLoopSeconds());
        }
        out.println("ideal: (forward + Hessian + solve FLOPs, as zq computes them) / the better sgemm rate (best 1024³ product) of the "
                + "probes just before and after the run; target ideal: the same with each factorisation counted as 2n³/3 (one "
                + "Cholesky and a whole triangular inverse), the count README's target is stated in; sustained: the same FLOPs / the "
                + "better of two 5-second means of back-to-back 4096³ products, before and after; layer loop: the quantize "
                + "command's time per layer, summed (without embedding/head conversion and start-up).");
        return 0;
    }

    /** Quantises the model in a child JVM with {@code nsamples × seqlen} random calibration tokens; the output is deleted. */
    static Result run(Options o, Path model, int nsamples, PrintStream out) throws IOException, InterruptedException {
        Path work = Files.createDirectories(o.dir().resolve("run-" + ProcessHandle.current().pid()));
        Path tokens = work.resolve("calib.tokens");
        SplittableRandom random = new SplittableRandom(11);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < nsamples * o.seqlen(); i++) b.append(random.nextInt(o.vocab())).append(i % 32 == 31 ? '\n' : ' ');
        Files.writeString(tokens, b);
        Path output = work.resolve("out");
        Path report = work.resolve("report.json");
        WorkEstimate work0;
        try (Checkpoint ck = Checkpoint.open(model)) {
            PipelineOptions options = new PipelineOptions(QuantizeMethod.GPTQ, new GptqConfig(4, o.groupSize(), false, true, false,
                    GptqConfig.DEFAULT_DAMP_PERCENT, GptqConfig.DEFAULT_BLOCK_SIZE, false), true, o.hessian());
            List<Integer> lengths = new ArrayList<>();
            for (int i = 0; i < nsamples; i++) lengths.add(o.seqlen());
            work0 = WorkEstimate.of(ck.config(), ck.layout(), options, lengths);
        }
        try {
            double before = SgemmProbe.flopsPerSecond(2.0);
            double sustainedBefore = SgemmProbe.sustainedFlopsPerSecond(5.0);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss16m",
                    "--add-modules", "jdk.incubator.vector"));
            // what the launcher gives `zq quantize` (its heap bound), then the user's options, which win
            for (String env : List.of("ZQ_QUANTIZE_JAVA_OPTS", "ZQ_JAVA_OPTS")) {
                String options = System.getenv(env);
                if (options != null && !options.isBlank()) cmd.addAll(List.of(options.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "zq.cli.Main", "quantize", model.toString(), "-o",
                    output.toString(), "--calib", tokens.toString(), "--calib-format", "tokens", "--nsamples", Integer.toString(nsamples),
                    "--seqlen", Integer.toString(o.seqlen()), "--group-size", Integer.toString(o.groupSize()), "--hessian",
                    o.hessian().name().toLowerCase(Locale.ROOT), "--report", report.toString()));
            out.printf(Locale.ROOT, "calibration %d×%d: $ zq quantize … (child JVM, progress below)%n", nsamples, o.seqlen());
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int code = p.waitFor();
            double wall = (System.nanoTime() - t0) / 1e9;
            if (code != 0) throw new IllegalStateException("zq quantize exited with " + code);
            double after = SgemmProbe.flopsPerSecond(2.0);
            double sustainedAfter = SgemmProbe.sustainedFlopsPerSecond(5.0);
            JsonNode r = JSON.readTree(report.toFile());
            double loop = 0;
            for (JsonNode s : r.get("seconds_per_layer")) loop += s.asDouble();
            out.printf(Locale.ROOT, "  sgemm %.0f GFLOP/s before, %.0f after; sustained %.0f before, %.0f after%n", before / 1e9,
                    after / 1e9, sustainedBefore / 1e9, sustainedAfter / 1e9);
            return new Result(nsamples, wall, loop, (ObjectNode) r.get("seconds_by_phase"), r.get("forwards_per_layer").asDouble(),
                    r.get("peak_rss_bytes").asLong(), r.get("peak_heap_bytes").asLong(), work0, Math.max(before, after),
                    Math.max(sustainedBefore, sustainedAfter));
        } finally {
            OutputFolder.deleteTree(work);
        }
    }
}
