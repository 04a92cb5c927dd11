package zq.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import zq.formats.text.MixedText;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Encoding throughput on generated mixed Chinese / English / code text ({@link MixedText}).
 * <pre>./zq bench tokenize MODEL_DIR_OR_TOKENIZER_FILE [MEGABYTES=10] [SEED=1]</pre>
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize generated mixed Chinese/English/code text: MB/s (the first encoding warms the JIT, "
                + "the second is timed)."})
public final class TokenizerBenchmark implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL_DIR_OR_TOKENIZER",
            description = "A model folder, tokenizer.json or 360Zhinao tokenizer file.")
    Path tokenizerPath;

    @Parameters(index = "1", arity = "0..1", defaultValue = "10", paramLabel = "MEGABYTES",
            description = "Megabytes of text to encode (default ${DEFAULT-VALUE}).")
    int megabytes;

    @Parameters(index = "2", arity = "0..1", defaultValue = "1", paramLabel = "SEED",
            description = "Seed of the generated text (default ${DEFAULT-VALUE}).")
    long seed;

    /** Bytes of UTF-8 text encoded, tokens produced and wall time of one timed encoding. */
    public record Result(long bytes, int tokens, long nanos) {
        public double megabytesPerSecond() { return bytes / 1e6 / (nanos / 1e9); }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.1f MB in %.2f s: %.2f MB/s, %d tokens (%.2f bytes/token)",
                    bytes / 1e6, nanos / 1e9, megabytesPerSecond(), tokens, (double) bytes / tokens);
        }
    }

    @Override public Integer call() {
        if (megabytes <= 0) throw new IllegalArgumentException("MEGABYTES must be positive, got " + megabytes);
        Tokenizer tokenizer = TokenizerLoader.load(tokenizerPath);
        System.out.println(tokenizer.description());
        System.out.println(run(tokenizer, MixedText.generate(seed, megabytes * 1_000_000)));
        return 0;
    }

    /** Encodes {@code text} once to warm up the JIT, then once timed. */
    public static Result run(Tokenizer tokenizer, String text) {
        tokenizer.encode(text);
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        long t0 = System.nanoTime();
        int[] ids = tokenizer.encode(text);
        long t1 = System.nanoTime();
        return new Result(bytes, ids.length, t1 - t0);
    }
}
