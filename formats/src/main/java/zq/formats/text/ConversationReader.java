package zq.formats.text;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import zq.formats.CheckpointException;
import zq.formats.JsonFiles;
import zq.formats.tokenizer.IntList;
import zq.formats.tokenizer.Tokenizer;

/**
 * 360Zhinao's fine-tuning data: a JSON array of {@code {"id": ..., "conversations": [{"from": role,
 * "value": text}, ...]}}, each conversation encoded by {@link ChatTemplate} and the results concatenated
 * (as finetune.py's concatenating dataset does). Read element by element, so large files stream.
 */
public final class ConversationReader implements CorpusReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public int[] read(Path file, Tokenizer tokenizer) {
        ChatTemplate template = new ChatTemplate(tokenizer);
        IntList out = new IntList(1 << 16);
        int index = 0;
        try (InputStream in = CompressedFiles.open(file); JsonParser parser = JSON.createParser(in)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                throw new CheckpointException(file + ": expected a JSON array of conversations");
            }
            while (parser.nextToken() == JsonToken.START_OBJECT) {
                JsonNode example = JSON.readTree(parser);
                template.encodeInto(messages(example, file, index), out);
                index++;
            }
            if (parser.currentToken() != JsonToken.END_ARRAY) {
                throw new CheckpointException(file + ": element " + index + " of the array is not an object");
            }
        } catch (IOException e) {
            throw new CheckpointException(file + ": conversation " + index + ": " + JsonFiles.describe(e), e);
        }
        if (index == 0) throw new CheckpointException(file + ": no conversations");
        return out.toArray();
    }

    static List<ChatMessage> messages(JsonNode example, Path file, int index) {
        JsonNode turns = example.get("conversations");
        if (turns == null || !turns.isArray() || turns.isEmpty()) {
            throw new CheckpointException(file + ": conversation " + index + " has no non-empty \"conversations\" array");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int t = 0; t < turns.size(); t++) {
            JsonNode turn = turns.get(t);
            JsonNode from = turn.get("from");
            JsonNode value = turn.get("value");
            if (from == null || !from.isTextual() || value == null || !value.isTextual()) {
                throw new CheckpointException(file + ": conversation " + index + " turn " + t
                        + " needs string fields \"from\" and \"value\"");
            }
            messages.add(new ChatMessage(from.asText(), value.asText()));
        }
        return messages;
    }
}
