package zq.gptq.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import zq.formats.ModelConfig;
import zq.formats.text.CorpusFormat;
import zq.formats.text.TextCorpus;
import zq.formats.tokenizer.TokenizerLoader;

/**
 * GPTQ calibration data: {@code nsamples} disjoint windows of exactly {@code seqlen} consecutive tokens at seeded
 * positions of one token stream ({@link zq.formats.text.WindowSampler} states the rule). No BOS
 * is inserted and nothing is padded, so no padding ever enters a Hessian (docs/gptq.md, "Calibration windows").
 *
 * <p>Token-count convention: every Hessian is H = (2/N)·Σ x·xᵀ over all N = nsamples·seqlen calibration tokens
 * (GPTQModel's normalisation). AutoGPTQ divides by the number of sequences instead; because every window has
 * exactly seqlen tokens, the two differ by the constant factor seqlen, and GPTQ's result does not change with a
 * positive factor on H (damping is relative to mean(diag H)).
 *
 * @param source  the file the windows came from, for reports
 * @param seqlen  tokens per window
 * @param seed    the sampling seed
 * @param windows the windows, each {@code seqlen} token ids (shared: do not modify)
 */
public record Calibration(String source, int seqlen, long seed, List<int[]> windows) {

    public Calibration {
        windows = List.copyOf(windows);
        if (windows.isEmpty()) throw new IllegalArgumentException(source + ": no calibration windows");
        for (int i = 0; i < windows.size(); i++) {
            if (windows.get(i).length != seqlen) {
                throw new IllegalArgumentException(source + ": calibration window " + i + " has " + windows.get(i).length
                        + " tokens, expected seqlen " + seqlen);
            }
        }
    }

    /** Draws the windows from a loaded corpus. */
    public static Calibration sample(TextCorpus corpus, int nsamples, int seqlen, long seed) {
        return new Calibration(corpus.source(), seqlen, seed, Arrays.asList(corpus.sampleWindows(nsamples, seqlen, seed)));
    }

    /**
     * Reads {@code file} and draws the windows.
     *
     * @param format   {@code tokens|text|jsonl|conversations}, or null to go by the file's extension
     * @param modelDir where the tokenizer is loaded from for every format but {@code tokens}; when it holds a config.json,
     *                 every id of the file is checked against its vocab_size and seqlen against max_position_embeddings
     */
    public static Calibration load(Path file, String format, Path modelDir, int nsamples, int seqlen, long seed) {
        CorpusFormat f = format == null ? CorpusFormat.detect(file) : CorpusFormat.parse(format);
        Path configFile = modelDir.resolve("config.json");
        ModelConfig config = Files.isRegularFile(configFile) ? ModelConfig.read(configFile) : null; // tokens need no model
        if (config != null) config.checkSeqLen(seqlen, modelDir);
        TextCorpus corpus = TextCorpus.load(file, f, f == CorpusFormat.TOKENS ? null : TokenizerLoader.load(modelDir));
        if (config != null) TextCorpus.checkIds(corpus.tokens(), config.vocabSize(), file.toString(), modelDir.toString());
        return sample(corpus, nsamples, seqlen, seed);
    }

    public int nsamples() { return windows.size(); }

    /** N, the calibration tokens every Hessian averages over. */
    public long tokens() { return (long) windows.size() * seqlen; }
}
