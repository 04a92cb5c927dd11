package zq.formats.text;

import java.nio.file.Files;
import java.nio.file.Path;

import zq.formats.CheckpointException;
import zq.formats.tokenizer.Tokenizer;

/**
 * A calibration or evaluation corpus as one token stream: the file's documents encoded and
 * concatenated. Perplexity cuts {@link #tokens()} into consecutive windows; GPTQ calibration draws
 * random windows with {@link #sampleWindows}.
 *
 * @param source the file the tokens came from, for messages
 * @param tokens the whole token stream (shared: do not modify)
 */
public record TextCorpus(String source, int[] tokens) {

    /**
     * Reads {@code file} in {@code format}, or in the format its extension names when {@code format} is null.
     *
     * @param tokenizer needed for every format but {@link CorpusFormat#TOKENS}, where it only range-checks ids (may be null)
     */
    public static TextCorpus load(Path file, CorpusFormat format, Tokenizer tokenizer) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": no such file");
        CorpusFormat f = format != null ? format : CorpusFormat.detect(file);
        if (tokenizer == null && f != CorpusFormat.TOKENS) {
            throw new IllegalArgumentException(file + " is " + f.formatName() + " and needs a tokenizer");
        }
        return new TextCorpus(file.toString(), f.reader().read(file, tokenizer));
    }

    /** As {@link #load(Path, CorpusFormat, Tokenizer)} with a format name ({@code tokens|text|jsonl|conversations}) or null. */
    public static TextCorpus load(Path file, String formatName, Tokenizer tokenizer) {
        return load(file, formatName == null ? null : CorpusFormat.parse(formatName), tokenizer);
    }

    public int length() { return tokens.length; }

    /**
     * Refuses ids the model cannot embed, wherever they are in the stream: sampling might skip a bad id this time and
     * hit it with another seed or nsamples.
     */
    public static void checkIds(int[] ids, int vocabSize, String source, String model) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new CheckpointException(source + ": token " + i + " has id " + ids[i] + ", outside the vocabulary of " + model
                        + " (vocab_size " + vocabSize + ", ids 0.." + (vocabSize - 1) + ")");
            }
        }
    }

    /** GPTQ calibration windows; see {@link WindowSampler}. */
    public int[][] sampleWindows(int nsamples, int seqlen, long seed) {
        return WindowSampler.sample(tokens, nsamples, seqlen, seed, source);
    }
}
