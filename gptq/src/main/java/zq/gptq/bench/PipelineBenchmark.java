package zq.gptq.bench;

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
 * in a child JVM started as the {@code zq} launcher starts one (no heap option), so that its peak RSS is what a user
 * sees. Calibration: exactly nsamples·seqlen seeded random token ids, so every token is used once. The checkpoint is
 * generated once per shape and reused ({@code --dir}, default java.io.tmpdir/zq-pipeline-bench).
 *
 * <p>Against: the ideal time, the run's FLOPs ({@link WorkEstimate}: one forward over the calibration tokens, the
 * Hessians, the factorisations and column loops) divided by the sgemm rate ({@link SgemmProbe}) measured just before
 * and just after the run, the better of the two (the machine may be shared). The layer loop is set against the
 * ideal on its own too, since embedding and head conversion (2.6 GB at this vocabulary) weigh on a one-layer model
 * but not on 32 layers.
 *
 * <p>Run as {@code ./zq bench quantize [--model zhinao-7b|llama-7b] [--layers 1] [--nsamples 16,32] [--seqlen 512]
 * [--group-size 128] [--hessian cpu] [--dir DIR] [--scale F]}; {@code --scale F} divides every width by F for a quick
 * check. Needs the CLI on the class path (the zq jar).
 */
public final class PipelineBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PipelineBenchmark() {}

    /** Model shape and run settings. */
    public record Options(Architecture arch, int hidden, int intermediate, int heads, int kvHeads, int vocab, int layers,
                          List<Integer> nsamples, int seqlen, int groupSize, HessianBackend hessian, Path dir) {

        public static Options parse(String[] args) {
            String model = "zhinao-7b";
            int scale = 1, layers = 1, seqlen = 512, groupSize = 128;
            List<Integer> nsamples = List.of(16);
            HessianBackend hessian = HessianBackend.CPU;
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "zq-pipeline-bench");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--model" -> model = value(a, args, ++i);
                    case "--scale" -> scale = positive(a, value(a, args, ++i));
                    case "--layers" -> layers = positive(a, value(a, args, ++i));
                    case "--nsamples" -> nsamples = parseList(a, value(a, args, ++i));
                    case "--seqlen" -> seqlen = positive(a, value(a, args, ++i));
                    case "--group-size" -> groupSize = Integer.parseInt(value(a, args, ++i));
                    case "--hessian" -> hessian = HessianBackend.parse(value(a, args, ++i));
                    case "--dir" -> dir = Path.of(value(a, args, ++i));
                    default -> throw new IllegalArgumentException("unknown option " + a + " (--model, --layers, --nsamples, --seqlen, "
                            + "--group-size, --hessian, --dir, --scale)");
                }
            }
            return switch (model) {
                case "zhinao-7b" -> new Options(Architecture.ZHINAO, shrink(4096, scale), shrink(13056, scale), Math.max(1, 32 / scale),
                        Math.max(1, 8 / scale), Math.max(256, 158464 / scale), layers, nsamples, seqlen, groupSize, hessian, dir);
                case "llama-7b" -> new Options(Architecture.LLAMA, shrink(4096, scale), shrink(11008, scale), Math.max(1, 32 / scale),
                        Math.max(1, 32 / scale), Math.max(256, 32000 / scale), layers, nsamples, seqlen, groupSize, hessian, dir);
                default -> throw new IllegalArgumentException("--model must be zhinao-7b or llama-7b, got " + model);
            };
        }

        private static int shrink(int width, int scale) { return Math.max(128, Math.round((float) width / scale / 128) * 128); }

        private static String value(String opt, String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException(opt + " needs a value");
            return args[i];
        }

        private static int positive(String opt, String v) {
            int n = Integer.parseInt(v);
            if (n <= 0) throw new IllegalArgumentException(opt + " must be positive, got " + n);
            return n;
        }

        private static List<Integer> parseList(String opt, String s) {
            List<Integer> out = new ArrayList<>();
            for (String p : s.split(",")) out.add(positive(opt, p.trim()));
            return out;
        }

        Path modelDir() {
            return dir.resolve(String.format(Locale.ROOT, "%s-h%d-i%d-v%d-l%d", arch.modelType(), hidden, intermediate, vocab, layers));
        }
    }

    /** One run's measurements. */
    public record Result(int nsamples, double wallSeconds, double layerLoopSeconds, JsonNode phases, double forwardsPerLayer,
                         long peakRssBytes, long peakHeapBytes, WorkEstimate work, double sgemmFlopsPerSecond) {
        double idealSeconds() { return work.seconds(sgemmFlopsPerSecond); }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
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
                        + "GPTQ 4 bit g%d sym true-sequential, Hessians %s; %d CPUs, OPENBLAS_NUM_THREADS=%s%n",
                model, o.arch().modelType(), o.layers(), o.hidden(), o.heads(), o.kvHeads(), o.intermediate(), o.vocab(), o.groupSize(),
                o.hessian().name().toLowerCase(Locale.ROOT), Runtime.getRuntime().availableProcessors(), System.getenv("OPENBLAS_NUM_THREADS"));
        List<Result> results = new ArrayList<>();
        for (int n : o.nsamples()) results.add(run(o, model, n, out));
        out.println();
        out.println("| calibration | wall s | layer loop s | ideal s | ideal / layer loop | ideal / wall | read | forward | hessian "
                + "| solve | pack | write | forwards/layer | peak RSS GB | peak heap GB | sgemm GFLOP/s |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            JsonNode p = r.phases();
            out.printf(Locale.ROOT, "| %d×%d | %.1f | %.1f | %.1f | %.0f %% | %.0f %% | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f |%n",
                    r.nsamples(), o.seqlen(), r.wallSeconds(), r.layerLoopSeconds(), r.idealSeconds(),
                    100 * r.idealSeconds() / r.layerLoopSeconds(), 100 * r.idealSeconds() / r.wallSeconds(),
                    p.path("read").asDouble(), p.path("forward").asDouble(), p.path("hessian").asDouble(), p.path("solve").asDouble(),
                    p.path("pack").asDouble(), p.path("write").asDouble(), r.forwardsPerLayer(), r.peakRssBytes() / 1e9,
                    r.peakHeapBytes() / 1e9, r.sgemmFlopsPerSecond() / 1e9);
        }
        out.println("ideal: (forward + Hessian + solve FLOPs) / the better sgemm rate of the probes just before and after the run; "
                + "layer loop: the quantize command's time per layer, summed (without embedding/head conversion and start-up).");
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
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss16m"));
            String launcherOptions = System.getenv("ZQ_JAVA_OPTS");
            if (launcherOptions != null && !launcherOptions.isBlank()) cmd.addAll(List.of(launcherOptions.trim().split("\\s+")));
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
            if (code != 0) throw new IllegalStateException("zq quantize exited with " + code + " (is the CLI on the class path? run ./zq bench quantize)");
            double after = SgemmProbe.flopsPerSecond(2.0);
            JsonNode r = JSON.readTree(report.toFile());
            double loop = 0;
            for (JsonNode s : r.get("seconds_per_layer")) loop += s.asDouble();
            out.printf(Locale.ROOT, "  sgemm %.0f GFLOP/s before, %.0f after%n", before / 1e9, after / 1e9);
            return new Result(nsamples, wall, loop, (ObjectNode) r.get("seconds_by_phase"), r.get("forwards_per_layer").asDouble(),
                    r.get("peak_rss_bytes").asLong(), r.get("peak_heap_bytes").asLong(), work0, Math.max(before, after));
        } finally {
            OutputFolder.deleteTree(work);
        }
    }
}
