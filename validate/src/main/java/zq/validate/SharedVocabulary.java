package zq.validate;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Two models can only be compared token by token when they share one vocabulary: the same
 * {@code vocab_size}, and identical vocabulary files wherever both folders carry the same one.
 */
final class SharedVocabulary {
    /** Files that define the id ↔ token mapping in the formats zq reads. */
    static final List<String> VOCABULARY_FILES = List.of("tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt",
            "vocab/360.tiktoken");

    private SharedVocabulary() {}

    static void check(Checkpoint baseline, Checkpoint candidate) {
        int a = baseline.config().vocabSize(), b = candidate.config().vocabSize();
        if (a != b) {
            throw new CheckpointException("baseline " + baseline.dir() + " has vocab_size " + a + " but candidate " + candidate.dir()
                    + " has " + b + "; validate compares next-token distributions, so both must share one vocabulary");
        }
        for (String name : VOCABULARY_FILES) {
            Path x = baseline.dir().resolve(name), y = candidate.dir().resolve(name);
            if (Files.isRegularFile(x) && Files.isRegularFile(y) && !sameBytes(x, y)) {
                throw new CheckpointException("baseline and candidate differ in " + name + " (" + x + " vs " + y
                        + "); validate needs models that share one vocabulary");
            }
        }
    }

    private static boolean sameBytes(Path x, Path y) {
        try {
            return Files.mismatch(x, y) == -1;
        } catch (IOException e) {
            throw new CheckpointException("cannot compare " + x + " with " + y + ": " + e.getMessage(), e);
        }
    }
}
