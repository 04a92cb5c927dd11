package zq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.OutputFolder;
import zq.formats.SyntheticModel;
import zq.gptq.GptqConfig;
import zq.gptq.export.GptqExporter;
import zq.gptq.export.QuantizeRequest;
import zq.gptq.export.QuantizeResult;
import zq.gptq.hessian.HessianBackend;
import zq.gptq.pipeline.Calibration;
import zq.gptq.pipeline.Phase;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.ProgressListener;
import zq.gptq.pipeline.QuantizeMethod;
import zq.gptq.pipeline.QuantizedLayer;

/**
 * Time and memory of the whole {@code zq quantize} pipeline on generated Llama-7B-width models (hidden 4096,
 * intermediate 11008, 32 heads) of 1, 2 and 4 decoder layers. Each depth runs in its own JVM, because peak RSS
 * (Linux VmHWM) only ever grows within a process: comparing the depths shows whether memory grows with the layer
 * count (it should not — one layer is decoded at a time and written as soon as it is done).
 *
 * <p>Run as {@code ZQ_JAVA_OPTS=-Xmx8g ./zq bench quantize [OPTIONS]} (quick: {@code ZQ_JAVA_OPTS=-Xmx512m ./zq bench
 * quantize --scale 8 --nsamples 8 --seqlen 256}). Give -Xmx a bound: with a large heap the JVM grows it lazily, and
 * peak RSS then shows the collector's choices rather than the live data. The child JVMs get this JVM's options
 * (-Xmx, -Xss).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"The whole quantize pipeline on generated Llama-7B-width models (hidden 4096, intermediate 11008, "
                + "32 heads) of 1, 2 and 4 layers, each in its own JVM: time per layer and peak RSS (flat in the layer count)."})
public final class PipelineBenchmark implements Callable<Integer> {
    @Option(names = "--scale", description = "Divide hidden, intermediate, heads and vocabulary by this (widths rounded to multiples of 128; default ${DEFAULT-VALUE}).")
    int scale = 1;

    @Option(names = "--layers", split = ",", paramLabel = "N,...", description = "Decoder layer counts (default 1,2,4).")
    List<Integer> layers = List.of(1, 2, 4);

    @Option(names = "--nsamples", description = "Calibration windows (default ${DEFAULT-VALUE}).")
    int nsamples = 16;

    @Option(names = "--seqlen", description = "Tokens per calibration window (default ${DEFAULT-VALUE}).")
    int seqlen = 512;

    @Option(names = "--group-size", description = "Columns per quantization group (default ${DEFAULT-VALUE}).")
    int groupSize = 128;

    @Option(names = "--hessian", paramLabel = "auto|opencl|cpu", description = "Hessian backend (default cpu).")
    String hessian = "cpu";

    @Option(names = "--dir", description = "Where models are generated and reused (default: java.io.tmpdir/zq-pipeline-bench).")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "zq-pipeline-bench");

    @Option(names = CHILD, hidden = true, description = "Run one depth in this JVM and print its result as JSON.")
    Integer childLayers;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHILD = "--child-layers";

    /** Model shape and run settings. */
    public record Options(int hidden, int intermediate, int heads, int vocab, List<Integer> layerCounts, int nsamples,
                          int seqlen, int groupSize, HessianBackend hessian, Path dir) {

        public static Options of(int scale, List<Integer> layers, int nsamples, int seqlen, int groupSize,
                                 HessianBackend hessian, Path dir) {
            positive("--scale", scale);
            positive("--nsamples", nsamples);
            positive("--seqlen", seqlen);
            layers.forEach(n -> positive("--layers", n));
            int heads = Math.max(1, 32 / scale);
            int hidden = Math.max(128, Math.round(4096f / scale / 128) * 128);
            if (hidden % heads != 0) throw new IllegalArgumentException("--scale " + scale + " gives hidden " + hidden + " and " + heads + " heads");
            return new Options(hidden, Math.max(128, Math.round(11008f / scale / 128) * 128), heads, Math.max(256, 32000 / scale),
                    layers, nsamples, seqlen, groupSize, hessian, dir);
        }

        private static void positive(String opt, int n) {
            if (n <= 0) throw new IllegalArgumentException(opt + " must be positive, got " + n);
        }
    }

    /** One depth's measurements. */
    public record Result(int layers, double totalSeconds, List<Double> layerSeconds, double forwardSeconds,
                         double hessianSeconds, double solveSeconds, double packSeconds, double writeSeconds,
                         long peakRssBytes, long peakAnonBytes, long peakHeapBytes, List<Long> liveHeapAfterLayers) {

        ObjectNode toJson() {
            ObjectNode j = JSON.createObjectNode();
            j.put("layers", layers);
            j.put("total", totalSeconds);
            layerSeconds.forEach(j.putArray("per_layer")::add);
            j.put("forward", forwardSeconds);
            j.put("hessian", hessianSeconds);
            j.put("solve", solveSeconds);
            j.put("pack", packSeconds);
            j.put("write", writeSeconds);
            j.put("rss", peakRssBytes);
            j.put("anon", peakAnonBytes);
            j.put("heap", peakHeapBytes);
            liveHeapAfterLayers.forEach(j.putArray("live")::add);
            return j;
        }

        static Result fromJson(JsonNode j) {
            List<Double> per = new ArrayList<>();
            j.get("per_layer").forEach(n -> per.add(n.asDouble()));
            List<Long> live = new ArrayList<>();
            j.get("live").forEach(n -> live.add(n.asLong()));
            return new Result(j.get("layers").asInt(), j.get("total").asDouble(), per, j.get("forward").asDouble(),
                    j.get("hessian").asDouble(), j.get("solve").asDouble(), j.get("pack").asDouble(), j.get("write").asDouble(),
                    j.get("rss").asLong(), j.get("anon").asLong(), j.get("heap").asLong(), live);
        }
    }

    /** Generates (or reuses) the model of this depth and quantises it in this JVM; the output is deleted afterwards. */
    public static Result run(Options o, int layers) throws IOException {
        Path model = o.dir().resolve(String.format(Locale.ROOT, "llama-h%d-i%d-l%d", o.hidden(), o.intermediate(), layers));
        if (!SyntheticModel.exists(model)) {
            SyntheticModel.write(model, SyntheticModel.config(Architecture.LLAMA, o.hidden(), o.intermediate(), layers, o.heads(),
                    o.heads(), o.vocab()), DType.BF16, 7);
        }
        SplittableRandom r = new SplittableRandom(11);
        List<int[]> windows = new ArrayList<>();
        for (int i = 0; i < o.nsamples(); i++) windows.add(r.ints(o.seqlen(), 0, o.vocab()).toArray());
        Calibration calibration = new Calibration("random tokens", o.seqlen(), 11, windows);
        GptqConfig config = new GptqConfig(4, o.groupSize(), false, true, false, GptqConfig.DEFAULT_DAMP_PERCENT,
                GptqConfig.DEFAULT_BLOCK_SIZE, false);
        PipelineOptions options = new PipelineOptions(QuantizeMethod.GPTQ, config, true, o.hessian());
        Path out = o.dir().resolve("out-l" + layers + "-" + ProcessHandle.current().pid());
        List<Long> live = new ArrayList<>();
        ProgressListener liveHeap = new ProgressListener() {
            @Override public void layerDone(QuantizedLayer layer, Progress progress) {
                System.gc(); // a full collection: what remains is the data the run still holds
                live.add(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            }
        };
        try (AnonRssSampler anon = new AnonRssSampler(20)) {
            QuantizeResult q = GptqExporter.run(QuantizeRequest.of(model, out, options, calibration), liveHeap);
            return new Result(layers, q.totalSeconds(), q.layerSeconds(), q.phaseSeconds().get(Phase.FORWARD),
                    q.phaseSeconds().get(Phase.HESSIAN), q.phaseSeconds().get(Phase.SOLVE), q.phaseSeconds().get(Phase.PACK),
                    q.phaseSeconds().get(Phase.WRITE), q.peakRssBytes(), anon.peakBytes(), q.peakHeapBytes(), live);
        } finally {
            OutputFolder.deleteTree(out);
        }
    }

    @Override public Integer call() throws Exception {
        Options o = Options.of(scale, layers, nsamples, seqlen, groupSize, HessianBackend.parse(hessian), dir);
        if (childLayers != null) {
            System.out.println(run(o, childLayers).toJson());
            return 0;
        }
        List<String> args = spec.commandLine().getParseResult().originalArgs(); // from "quantize" on
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "zq quantize pipeline: Llama-shaped, hidden %d, intermediate %d, %d heads, vocab %d; GPTQ 4 bit "
                        + "g%d sym true-sequential; calibration %d x %d tokens; Hessians %s; %d CPUs, OPENBLAS_NUM_THREADS=%s%n",
                o.hidden(), o.intermediate(), o.heads(), o.vocab(), o.groupSize(), o.nsamples(), o.seqlen(), o.hessian(),
                Runtime.getRuntime().availableProcessors(), System.getenv("OPENBLAS_NUM_THREADS"));
        out.println("layers  total s   s/layer  forward  hessian    solve  solve/layer   pack   write  VmHWM MB  RssAnon MB  heap MB"
                + "  live heap MB after each layer");
        for (int layers : o.layerCounts()) {
            Result r = inChildJvm(args, layers);
            out.printf(Locale.ROOT, "%6d %8.1f %9.2f %8.1f %8.1f %8.1f %12.2f %6.2f %7.2f %9.0f %11.0f %8.0f  %s%n", r.layers(),
                    r.totalSeconds(), r.layerSeconds().stream().mapToDouble(Double::doubleValue).average().orElse(0),
                    r.forwardSeconds(), r.hessianSeconds(), r.solveSeconds(), r.solveSeconds() / r.layers(), r.packSeconds(),
                    r.writeSeconds(), r.peakRssBytes() / 1e6, r.peakAnonBytes() / 1e6, r.peakHeapBytes() / 1e6,
                    r.liveHeapAfterLayers().stream().map(b -> String.format(Locale.ROOT, "%.0f", b / 1e6))
                            .collect(java.util.stream.Collectors.joining(" ")));
        }
        out.println("VmHWM: peak resident set, including pages of the memory-mapped input that the kernel may drop;");
        out.println("RssAnon: peak anonymous memory (heap + native), sampled every 20 ms; heap: sum of the heap pools' peaks;");
        out.println("live heap: heap in use after a full GC forced at the end of each layer (times include those GCs).");
        return 0;
    }

    /** Runs one depth in a fresh JVM with this JVM's options, so that its VmHWM counts that depth alone. */
    private static Result inChildJvm(List<String> args, int layers) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchMain.class.getName()));
        cmd.addAll(args);
        cmd.addAll(List.of(CHILD, Integer.toString(layers)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) last = line;
        }
        int code = p.waitFor();
        if (code != 0 || last == null) throw new IllegalStateException("the " + layers + "-layer run failed with exit code " + code);
        return Result.fromJson(JSON.readTree(last));
    }
}
