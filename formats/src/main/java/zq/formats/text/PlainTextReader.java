package zq.formats.text;

import java.nio.file.Path;

import zq.formats.tokenizer.Tokenizer;

/** A plain UTF-8 text file, encoded as one string (as wikitext-2 perplexity runs do). */
public final class PlainTextReader implements CorpusReader {
    @Override
    public int[] read(Path file, Tokenizer tokenizer) {
        return tokenizer.encode(CompressedFiles.readString(file));
    }
}
