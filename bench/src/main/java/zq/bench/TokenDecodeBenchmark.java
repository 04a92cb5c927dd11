package zq.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.runtime.generate.Session;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * Decode speed at 7B width (hidden 4096, 32/8 heads, intermediate 13056, vocab 32000, a few layers): tokens/s
 * of BF16 and of GPTQ Int4 against the memory-bandwidth limit measured in the same run. Decoding one token
 * reads every weight once, so {@code limit = streaming-read bandwidth / stored bytes per token}; the
 * bandwidth is the best of a few parallel sequential reads of a buffer far larger than the caches.
 */
@Command(name = "decode", mixinStandardHelpOptions = true, description = {"Decode tokens/s at 7B width (generated models, "
        + "kept in --dir), BF16 and GPTQ Int4, each against the memory-bandwidth limit measured in the same run "
        + "(stored bytes per token / streaming-read bandwidth)."})
public final class TokenDecodeBenchmark implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "D", description = "Where the models are generated and reused (default: java.io.tmpdir/zq-bench-decode).")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "zq-bench-decode");
    @Option(names = "--layers", description = "Decoder layers (default ${DEFAULT-VALUE}).") int layers = 2;
    @Option(names = "--hidden", description = "hidden_size (default ${DEFAULT-VALUE}).") int hidden = 4096;
    @Option(names = "--intermediate", description = "intermediate_size (default ${DEFAULT-VALUE}).") int intermediate = 13056;
    @Option(names = "--heads", description = "Attention heads (default ${DEFAULT-VALUE}).") int heads = 32;
    @Option(names = "--kv-heads", description = "KV heads (default ${DEFAULT-VALUE}).") int kvHeads = 8;
    @Option(names = "--vocab", description = "Vocabulary (default ${DEFAULT-VALUE}).") int vocab = 32000;
    @Option(names = "--prompt", description = "Prompt tokens before timing (default ${DEFAULT-VALUE}).") int prompt = 16;
    @Option(names = "--tokens", description = "Timed decode steps (default ${DEFAULT-VALUE}: on a noisy 2-core VM, 16 steps swung the ratio by 20 points).") int tokens = 64;
    @Option(names = "--warmup", description = "Untimed steps at most, stopping after 3 s once 3 are done (default ${DEFAULT-VALUE}).") int warmup = 200;
    @Option(names = "--group-size", description = "GPTQ group size (default ${DEFAULT-VALUE}).") int groupSize = 128;
    @Option(names = "--act-order", description = "GPTQ g_idx in act-order (shuffled groups) instead of input order.") boolean actOrder;
    @Option(names = "--bandwidth-mib", description = "Buffer read to measure bandwidth (default ${DEFAULT-VALUE}).") int bandwidthMiB = 1024;

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Files.createDirectories(dir);
        Path dense = dir.resolve(String.format(Locale.ROOT, "bf16-%dx%d-%d", hidden, intermediate, layers));
        if (!SyntheticModel.exists(dense)) {
            System.err.println("zq bench decode: writing a " + layers + "-layer BF16 model to " + dense);
            SyntheticModel.write(dense, SyntheticModel.config(Architecture.LLAMA, hidden, intermediate, layers, heads, kvHeads, vocab),
                    DType.BF16, 1);
        }
        Path gptq = dir.resolve(dense.getFileName() + "-int4-g" + groupSize + (actOrder ? "-act" : ""));
        if (!SyntheticModel.exists(gptq)) {
            System.err.println("zq bench decode: writing its GPTQ Int4 twin (random codes) to " + gptq);
            SyntheticGptqModel.write(dense, gptq, groupSize, actOrder, 2);
        }
        double before = bandwidth(bandwidthMiB);
        Run bf16 = decode(dense), int4 = decode(gptq);
        double after = bandwidth(bandwidthMiB);
        double bw = Math.max(before, after);
        out.printf(Locale.ROOT, "decode at hidden %d, intermediate %d, %d layers, vocab %d; %d-token prompt, %d tokens; %d cores%n",
                hidden, intermediate, layers, vocab, prompt, tokens, Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "streaming read: %.1f GB/s before, %.1f GB/s after (the limit uses the better)%n", before / 1e9, after / 1e9);
        out.println("model          MB/token  tokens/s  limit tokens/s  % of limit  KV cache MB");
        for (Run r : new Run[]{bf16, int4}) {
            double limit = bw / r.bytesPerToken();
            out.printf(Locale.ROOT, "%-14s %8.1f  %8.2f  %14.2f  %9.1f %%  %11.1f%n", r.name(), r.bytesPerToken() / 1e6, r.tokensPerSecond(),
                    limit, 100 * r.tokensPerSecond() / limit, r.cacheBytes() / 1e6);
        }
        out.printf(Locale.ROOT, "Int4 / BF16 speed: %.2fx%n", int4.tokensPerSecond() / bf16.tokensPerSecond());
        out.flush();
        return 0;
    }

    private record Run(String name, long bytesPerToken, double tokensPerSecond, long cacheBytes) {}

    private Run decode(Path model) {
        try (Checkpoint ck = Checkpoint.open(model); Session s = new Session(ck)) {
            int[] ids = new int[prompt];
            for (int i = 0; i < ids.length; i++) ids[i] = (i * 7919) % vocab;
            float[] logits = s.feed(ids);
            // warm-up: the first steps fault the mapped pages in, and the Vector API kernels are slow until C2 compiles them
            long warm = System.nanoTime();
            for (int i = 0; i < warmup && (i < 3 || System.nanoTime() - warm < 3e9); i++) logits = s.step(argmax(logits));
            long t0 = System.nanoTime();
            for (int i = 0; i < tokens; i++) logits = s.step(argmax(logits));
            double seconds = (System.nanoTime() - t0) / 1e9;
            String name = ck.config().quantization() == null ? "BF16" : "GPTQ Int4" + (actOrder ? " act" : "");
            System.err.printf(Locale.ROOT, "zq bench decode: %s %.2f tokens/s%n", name, tokens / seconds);
            return new Run(name, s.decoder().weightBytesPerToken(), tokens / seconds, s.cacheBytes());
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Bytes per second of the best of 5 parallel sequential reads (8 bytes at a time) of a direct buffer. */
    static double bandwidth(int mib) {
        ByteBuffer b = ByteBuffer.allocateDirect(mib << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b.capacity(); i += 8) b.putLong(i, i);
        int tasks = 64;
        long per = b.capacity() / tasks;
        double best = 0;
        long checksum = 0;
        for (int run = 0; run < 5; run++) {
            long t0 = System.nanoTime();
            checksum += IntStream.range(0, tasks).parallel().mapToLong(t -> {
                long s = 0;
                for (long i = t * per, end = i + per; i < end; i += 8) s += b.getLong((int) i);
                return s;
            }).sum();
            best = Math.max(best, b.capacity() / ((System.nanoTime() - t0) / 1e9));
        }
        if (checksum == 42) System.err.println("checksum " + checksum); // the sums are used, so the reads stay
        return best;
    }
}
