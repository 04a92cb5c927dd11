package zq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.gptq.pipeline.PeakMemory;
import zq.runtime.Activations;
import zq.runtime.LayerKv;
import zq.runtime.LayerStream;
import zq.runtime.LayerWeights;
import zq.runtime.NativeWorkspace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Prefill of long prompts through one 7B-width layer (hidden 4096, 32/8 heads, intermediate 13056), chunk by
 * chunk against its KV cache: tokens/s and peak memory per length, each length in a fresh JVM so that its peak
 * counts that length alone. Memory should grow at most linearly (hidden states and cache), time faster than
 * linearly (attention is quadratic).
 */
@Command(name = "prefill", mixinStandardHelpOptions = true, description = {"Prefill tokens/s and peak RSS of one 7B-width layer "
        + "at several prompt lengths, each in a fresh JVM: memory should grow at most linearly with the length."})
public final class PrefillBenchmark implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHILD = "--child-length";

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "D", description = "Where the model is generated and reused (default: java.io.tmpdir/zq-bench-prefill).")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "zq-bench-prefill");
    @Option(names = "--lengths", split = ",", paramLabel = "N,...", description = "Prompt lengths (default 4096,16384,32768).")
    List<Integer> lengths = List.of(4096, 16384, 32768);
    @Option(names = "--chunk", description = "Positions per chunk (default ${DEFAULT-VALUE}).") int chunk = 4096;
    @Option(names = "--hidden", description = "hidden_size (default ${DEFAULT-VALUE}).") int hidden = 4096;
    @Option(names = "--intermediate", description = "intermediate_size (default ${DEFAULT-VALUE}).") int intermediate = 13056;
    @Option(names = "--heads", description = "Attention heads (default ${DEFAULT-VALUE}).") int heads = 32;
    @Option(names = "--kv-heads", description = "KV heads (default ${DEFAULT-VALUE}).") int kvHeads = 8;
    @Option(names = CHILD, hidden = true, description = "Run one length in this JVM and print its result as JSON.") Integer childLength;

    @Override public Integer call() throws Exception {
        Path model = dir.resolve(String.format(Locale.ROOT, "prefill-bf16-%dx%d", hidden, intermediate));
        if (childLength != null) {
            System.out.println(run(model, childLength));
            return 0;
        }
        writeModel(model);
        List<JsonNode> rows = new ArrayList<>();
        for (int len : lengths) {
            System.err.println("zq bench prefill: " + len + " tokens in a fresh JVM");
            rows.add(inChildJvm(len));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "prefill of one layer at hidden %d, %d/%d heads, intermediate %d, chunks of %d positions; %d cores%n",
                hidden, heads, kvHeads, intermediate, chunk, Runtime.getRuntime().availableProcessors());
        out.println("tokens   seconds  tokens/s  KV cache MB  peak RSS MB  RSS growth KB/token");
        JsonNode first = rows.get(0);
        for (JsonNode r : rows) {
            long len = r.get("tokens").asLong(), len0 = first.get("tokens").asLong();
            String growth = len == len0 ? "-" : String.format(Locale.ROOT, "%.1f",
                    (r.get("vm_hwm").asDouble() - first.get("vm_hwm").asDouble()) / 1024 / (len - len0));
            out.printf(Locale.ROOT, "%6d  %8.1f  %8.1f  %11.1f  %11.0f  %s%n", len, r.get("seconds").asDouble(),
                    len / r.get("seconds").asDouble(), r.get("kv_bytes").asDouble() / 1e6, r.get("vm_hwm").asDouble() / 1048576, growth);
        }
        out.printf(Locale.ROOT, "Linear terms: hidden states %d KB/token (fp32) + K and V %d KB/token + a chunk working set bounded by --chunk.%n",
                hidden * 4 / 1024, 2 * kvHeads * (hidden / heads) * 4 / 1024);
        out.flush();
        return 0;
    }

    private void writeModel(Path model) throws IOException {
        Files.createDirectories(dir);
        if (SyntheticModel.exists(model)) return;
        var cfg = SyntheticModel.config(Architecture.LLAMA, hidden, intermediate, 1, heads, kvHeads, 1024);
        SyntheticModel.write(model, cfg, DType.BF16, 3);
    }

    /** One length in this JVM: the layer's prefill over {@code length} positions, one JSON object. */
    private JsonNode run(Path model, int length) {
        try (Checkpoint ck = Checkpoint.open(model); NativeWorkspace w = new NativeWorkspace();
             LayerStream stream = new LayerStream(ck, chunk, 0, w); LayerKv cache = new LayerKv(ck.config().numKvHeads(), ck.config().headDim())) {
            int[] tokens = new int[length];
            for (int i = 0; i < length; i++) tokens[i] = (i * 7919) % 1024;
            LayerWeights weights = stream.loadLayer(0);
            Activations x = stream.embed(List.of(tokens));
            cache.reset(length);
            long t0 = System.nanoTime();
            stream.prefill(weights, x.windows().get(0), length, cache);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return JSON.createObjectNode().put("tokens", length).put("seconds", seconds).put("kv_bytes", cache.bytes())
                    .put("vm_hwm", PeakMemory.peakRssBytes());
        }
    }

    private JsonNode inChildJvm(int length) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchMain.class.getName(), "prefill",
                "--dir", dir.toString(), "--chunk", Integer.toString(chunk), "--hidden", Integer.toString(hidden),
                "--intermediate", Integer.toString(intermediate), "--heads", Integer.toString(heads), "--kv-heads", Integer.toString(kvHeads),
                CHILD, Integer.toString(length)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) last = line;
        }
        int code = p.waitFor();
        if (code != 0 || last == null) throw new IllegalStateException("the " + length + "-token run failed with exit code " + code);
        return JSON.readTree(last);
    }
}
