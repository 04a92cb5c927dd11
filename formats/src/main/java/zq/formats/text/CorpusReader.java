package zq.formats.text;

import java.nio.file.Path;

import zq.formats.tokenizer.Tokenizer;

/** Reads one kind of calibration / evaluation file into a single token stream. */
public interface CorpusReader {
    /**
     * The file's tokens, documents concatenated in file order.
     *
     * @param tokenizer encodes text; for a token-id file, only checks that ids are in its vocabulary (may be null there)
     * @throws zq.formats.CheckpointException for a file that is missing, unreadable or not of this format
     */
    int[] read(Path file, Tokenizer tokenizer);
}
