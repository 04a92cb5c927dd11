package zq.gptq.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.gptq.pipeline.PeakMemory;
import zq.runtime.Activations;
import zq.runtime.LayerKv;
import zq.runtime.LayerStream;
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

/**
 * Prefill of long prompts through one 7B-width layer (hidden 4096, 32/8 heads, intermediate 13056), chunk by
 * chunk against its KV cache: tokens/s and peak memory per length, each length in a fresh JVM so that its
 * peak counts that length alone. Memory should grow at most linearly (hidden states and cache), time
 * super-linearly (attention is quadratic).
 */
public final class PrefillBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Options(Path dir, List<Integer> lengths, int chunk, int hidden, int intermediate, int heads, int kvHeads) {}

    private PrefillBenchmark() {}

    public static void run(Options o, PrintWriter out) throws IOException, InterruptedException {
        Path model = model(o);
        List<JsonNode> rows = new ArrayList<>();
        for (int len : o.lengths()) {
            System.err.println("zq bench prefill: " + len + " tokens in a fresh JVM");
            rows.add(inChildJvm(o, len));
        }
        out.printf(Locale.ROOT, "prefill of one layer at hidden %d, %d/%d heads, intermediate %d, chunks of %d positions; %d cores; model %s%n",
                o.hidden(), o.heads(), o.kvHeads(), o.intermediate(), o.chunk(), Runtime.getRuntime().availableProcessors(), model);
        out.println("tokens   seconds  tokens/s  KV cache MB  peak RSS MB  peak RssAnon MB  RssAnon growth KB/token");
        JsonNode first = rows.get(0);
        for (JsonNode r : rows) {
            long len = r.get("tokens").asLong();
            String growth = len == first.get("tokens").asLong() ? "-" : String.format(Locale.ROOT, "%.1f",
                    (r.get("rss_anon").asDouble() - first.get("rss_anon").asDouble()) / 1024 / (len - first.get("tokens").asLong()));
            out.printf(Locale.ROOT, "%6d  %8.1f  %8.1f  %11.1f  %11.0f  %15.0f  %s%n", len, r.get("seconds").asDouble(),
                    len / r.get("seconds").asDouble(), r.get("kv_bytes").asDouble() / 1e6, r.get("vm_hwm").asDouble() / 1048576,
                    r.get("rss_anon").asDouble() / 1048576, growth);
        }
        out.println("Linear memory: hidden states (16 KB/token at fp32) + K and V (8 KB/token) + a bounded chunk working set.");
        out.flush();
    }

    private static Path model(Options o) throws IOException {
        Files.createDirectories(o.dir());
        Path model = o.dir().resolve(String.format(Locale.ROOT, "prefill-bf16-%dx%d", o.hidden(), o.intermediate()));
        if (!SyntheticModel.exists(model)) {
            var cfg = SyntheticModel.config(Architecture.LLAMA, o.hidden(), o.intermediate(), 1, o.heads(), o.kvHeads(), 1024);
            int longest = o.lengths().stream().mapToInt(Integer::intValue).max().orElse(4096);
            cfg.put("max_position_embeddings", Math.max(4096, longest));
            SyntheticModel.write(model, cfg, DType.BF16, 3);
        }
        return model;
    }

    /** The child: prefill {@code length} tokens, print one JSON line. */
    public static void child(Options o, int length) {
        Path model = o.dir().resolve(String.format(Locale.ROOT, "prefill-bf16-%dx%d", o.hidden(), o.intermediate()));
        try (Checkpoint ck = Checkpoint.open(model); NativeWorkspace w = new NativeWorkspace();
             LayerStream stream = new LayerStream(ck, o.chunk(), 0, w); LayerKv cache = new LayerKv(ck.config().numKvHeads(), ck.config().headDim());
             PeakMemory.AnonSampler anon = new PeakMemory.AnonSampler(20)) {
            int[] tokens = new int[length];
            for (int i = 0; i < length; i++) tokens[i] = (i * 7919) % 1024;
            var weights = stream.loadLayer(0);
            Activations x = stream.embed(List.of(tokens));
            cache.reset(length);
            long t0 = System.nanoTime();
            stream.decoder().prefill(weights, x.windows().get(0), length, cache);
            double seconds = (System.nanoTime() - t0) / 1e9;
            var o2 = JSON.createObjectNode().put("tokens", length).put("seconds", seconds).put("kv_bytes", cache.bytes())
                    .put("vm_hwm", PeakMemory.peakRssBytes()).put("rss_anon", anon.peakBytes());
            System.out.println(o2);
        }
    }


    private static JsonNode inChildJvm(Options o, int length) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PrefillBenchmark.class.getName(),
                o.dir().toString(), Integer.toString(o.chunk()), Integer.toString(o.hidden()), Integer.toString(o.intermediate()),
                Integer.toString(o.heads()), Integer.toString(o.kvHeads()), Integer.toString(length)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) last = line;
        }
        int code = p.waitFor();
        if (code != 0 || last == null) throw new IllegalStateException("the " + length + "-token run failed with exit code " + code);
        return JSON.readTree(last);
    }

    /** Entry point of the child JVM: DIR CHUNK HIDDEN INTERMEDIATE HEADS KV_HEADS LENGTH. */
    public static void main(String[] a) {
        Options o = new Options(Path.of(a[0]), List.of(Integer.parseInt(a[6])), Integer.parseInt(a[1]), Integer.parseInt(a[2]),
                Integer.parseInt(a[3]), Integer.parseInt(a[4]), Integer.parseInt(a[5]));
        child(o, Integer.parseInt(a[6]));
    }
}
