package zq.formats.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import zq.formats.CheckpointException;
import zq.formats.tokenizer.IntList;
import zq.formats.tokenizer.Tokenizer;

/** Token ids written as whitespace-separated decimal integers (any line breaks). */
public final class TokenIdReader implements CorpusReader {
    @Override
    public int[] read(Path file, Tokenizer tokenizer) {
        IntList out = new IntList(1 << 16);
        int limit = tokenizer == null ? Integer.MAX_VALUE : tokenizer.vocabSize();
        int lineNo = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(CompressedFiles.open(file),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)))) {
            String line;
            while ((line = in.readLine()) != null) {
                lineNo++;
                for (String field : line.strip().split("\\s+")) {
                    if (field.isEmpty()) continue;
                    int id;
                    try {
                        id = Integer.parseInt(field);
                    } catch (NumberFormatException e) {
                        String shown = field.length() <= 20 ? field : field.substring(0, 20) + "…";
                        throw new CheckpointException(file + " line " + lineNo + ": '" + shown + "' is not a token id");
                    }
                    if (id < 0) throw new CheckpointException(file + " line " + lineNo + ": token id " + id + " is negative");
                    if (id >= limit) {
                        throw new CheckpointException(file + " line " + lineNo + ": token id " + id + " is outside the vocabulary (0.."
                                + (limit - 1) + ")");
                    }
                    out.add(id);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(file + " line " + (lineNo + 1) + ": " + CompressedFiles.describe(e), e);
        }
        if (out.size() == 0) throw new CheckpointException(file + ": no token ids");
        return out.toArray();
    }
}
