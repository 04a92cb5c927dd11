package zq.validate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import zq.formats.CheckpointException;
import zq.formats.text.TextCorpus;
import zq.formats.text.TokenIdReader;

/** A file of whitespace-separated integer token ids: the input of {@code zq ppl --tokens}. */
public final class TokenFile {
    private TokenFile() {}

    /** The ids of {@code file} (compressed or not, as {@link TokenIdReader} reads calibration token files). */
    public static int[] read(Path file) {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file + ": no such file");
        int[] ids = new TokenIdReader().read(file, null);
        if (ids.length < 2) throw new CheckpointException(file + ": has " + ids.length + " token id; perplexity needs at least 2");
        return ids;
    }

    /** Refuses ids that the model cannot embed, before any layer is run. */
    public static void checkVocabulary(int[] ids, int vocabSize, String model) {
        TextCorpus.checkIds(ids, vocabSize, "the text", model);
    }

    /** The ids as one line, for writing test and benchmark inputs. */
    public static String format(int[] ids) {
        return String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toList()) + "\n";
    }
}
