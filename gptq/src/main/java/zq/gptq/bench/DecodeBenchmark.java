package zq.gptq.bench;

import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.runtime.generate.Session;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Decode speed at 7B width (hidden 4096, 32/8 heads, intermediate 13056, vocab 32000, a few layers): tokens/s
 * of BF16 and of GPTQ Int4 against the memory-bandwidth limit measured in the same run. Decoding one token
 * reads every weight once, so {@code limit = streaming-read bandwidth / stored bytes per token}; the
 * bandwidth is the best of a few parallel sequential reads of a buffer far larger than the caches.
 */
public final class DecodeBenchmark {
    /** @param dir where the generated models go (kept between runs: reused when present) */
    public record Options(Path dir, int layers, int hidden, int intermediate, int heads, int kvHeads, int vocab, int prompt,
                          int tokens, int groupSize, boolean actOrder, int bandwidthMiB) {}

    private DecodeBenchmark() {}

    public static void run(Options o, PrintWriter out) throws IOException {
        Files.createDirectories(o.dir());
        Path dense = o.dir().resolve(String.format(Locale.ROOT, "bf16-%dx%d-%d", o.hidden(), o.intermediate(), o.layers()));
        if (!SyntheticModel.exists(dense)) {
            System.err.println("zq bench decode: writing a " + o.layers() + "-layer BF16 model to " + dense);
            var cfg = SyntheticModel.config(Architecture.LLAMA, o.hidden(), o.intermediate(), o.layers(), o.heads(), o.kvHeads(), o.vocab());
            SyntheticModel.write(dense, cfg, DType.BF16, 1);
        }
        Path gptq = o.dir().resolve(dense.getFileName() + "-int4-g" + o.groupSize() + (o.actOrder() ? "-act" : ""));
        if (!SyntheticModel.exists(gptq)) {
            System.err.println("zq bench decode: writing its GPTQ Int4 twin (random codes) to " + gptq);
            SyntheticGptqModel.write(dense, gptq, o.groupSize(), o.actOrder(), 2);
        }
        double before = bandwidth(o.bandwidthMiB());
        Run bf16 = decode(dense, o), int4 = decode(gptq, o);
        double after = bandwidth(o.bandwidthMiB());
        double bw = Math.max(before, after);
        out.printf(Locale.ROOT, "decode at hidden %d, intermediate %d, %d layers, vocab %d; %d-token prompt, %d tokens; %d cores%n",
                o.hidden(), o.intermediate(), o.layers(), o.vocab(), o.prompt(), o.tokens(), Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "streaming read: %.1f GB/s before, %.1f GB/s after (limit uses the better)%n", before / 1e9, after / 1e9);
        out.println("model          MB/token  tokens/s  limit tokens/s  % of limit  KV cache MB");
        for (Run r : new Run[]{bf16, int4}) {
            double limit = bw / r.bytesPerToken();
            out.printf(Locale.ROOT, "%-14s %8.1f  %8.2f  %14.2f  %9.1f %%  %11.1f%n", r.name(), r.bytesPerToken() / 1e6, r.tokensPerSecond(),
                    limit, 100 * r.tokensPerSecond() / limit, r.cacheBytes() / 1e6);
        }
        out.printf(Locale.ROOT, "Int4 / BF16 speed: %.2fx%n", int4.tokensPerSecond() / bf16.tokensPerSecond());
        out.flush();
    }

    record Run(String name, long bytesPerToken, double tokensPerSecond, long cacheBytes) {}

    private static Run decode(Path model, Options o) {
        try (Checkpoint ck = Checkpoint.open(model); Session s = new Session(ck)) {
            int[] prompt = new int[o.prompt()];
            for (int i = 0; i < prompt.length; i++) prompt[i] = (i * 7919) % o.vocab();
            float[] logits = s.feed(prompt);
            for (int i = 0; i < 3; i++) logits = s.step(argmax(logits)); // the first steps fault the mapped pages in
            long t0 = System.nanoTime();
            for (int i = 0; i < o.tokens(); i++) logits = s.step(argmax(logits));
            double seconds = (System.nanoTime() - t0) / 1e9;
            String name = ck.config().quantization() == null ? "BF16" : "GPTQ Int4" + (o.actOrder() ? " act" : "");
            System.err.printf(Locale.ROOT, "zq bench decode: %s %.2f tokens/s%n", name, o.tokens() / seconds);
            return new Run(name, s.decoder().weightBytesPerToken(), o.tokens() / seconds, s.cacheBytes());
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
        for (int run = 0; run < 5; run++) {
            long t0 = System.nanoTime();
            long sum = IntStream.range(0, tasks).parallel().mapToLong(t -> {
                long s = 0;
                for (long i = t * per, end = i + per; i < end; i += 8) s += b.getLong((int) i);
                return s;
            }).sum();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (sum == 42) System.err.print(""); // keeps the reads
            best = Math.max(best, b.capacity() / seconds);
        }
        return best;
    }
}
