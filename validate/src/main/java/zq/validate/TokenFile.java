package zq.validate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** A file of whitespace-separated integer token ids: the input of {@code zq ppl --tokens}. */
public final class TokenFile {
    private TokenFile() {}

    public static int[] read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("tokens file " + file + ": cannot read: " + e.getMessage(), e);
        }
        String trimmed = text.strip();
        String[] parts = trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tokens file " + file + ": '" + abbreviate(parts[i]) + "' (token " + i
                        + ") is not an integer token id");
            }
            if (ids[i] < 0) throw new IllegalArgumentException("tokens file " + file + ": token " + i + " is negative (" + ids[i] + ")");
        }
        if (ids.length < 2) {
            throw new IllegalArgumentException("tokens file " + file + ": has " + ids.length + " token ids; perplexity needs at least 2");
        }
        return ids;
    }

    /** Refuses ids that the model cannot embed, before any layer is run. */
    public static void checkVocabulary(int[] ids, int vocabSize, String model) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("token " + i + " has id " + ids[i] + ", outside the vocabulary of " + model
                        + " (vocab_size " + vocabSize + ")");
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "…";
    }

    /** The ids as one line, for writing test and benchmark inputs. */
    public static String format(int[] ids) {
        return String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toList()) + "\n";
    }
}
