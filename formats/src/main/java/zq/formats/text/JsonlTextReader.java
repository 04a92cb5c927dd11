package zq.formats.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import zq.formats.CheckpointException;
import zq.formats.JsonFiles;
import zq.formats.tokenizer.Tokenizer;

/**
 * JSON Lines with a string {@code text} field per line (C4, RedPajama and most dumps); the documents
 * are joined with blank lines ("\n\n", as the GPTQ wikitext-2 recipe joins its rows) and encoded once.
 */
public final class JsonlTextReader implements CorpusReader {
    public static final String SEPARATOR = "\n\n";

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public int[] read(Path file, Tokenizer tokenizer) {
        StringBuilder joined = new StringBuilder();
        int lineNo = 0;
        int documents = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(CompressedFiles.open(file),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)))) {
            String line;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new CheckpointException(file + " line " + lineNo + ": " + JsonFiles.describe(e).replace("(line 1, column", "(column"));
                }
                JsonNode text = node == null ? null : node.get("text");
                if (text == null || !text.isTextual()) {
                    throw new CheckpointException(file + " line " + lineNo + ": no string field \"text\"");
                }
                if (documents++ > 0) joined.append(SEPARATOR);
                joined.append(text.asText());
            }
        } catch (IOException e) {
            throw new CheckpointException(file + " line " + (lineNo + 1) + ": " + CompressedFiles.describe(e), e);
        }
        if (documents == 0) throw new CheckpointException(file + ": no JSON lines with text");
        return tokenizer.encode(joined.toString());
    }
}
