package zq.formats.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.text.TinyZhinao.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.tokenizer.ZhinaoTokenizer;

class ChatTemplateTest {
    static ZhinaoTokenizer tok;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException { tok = TinyZhinao.create(dir); }

    /** [im_start] system \n "You are a helpful assistant." [im_end] \n, built by hand. */
    static int[] defaultSystemBlock() {
        // "You" is one token; " are a helpful assistant." has no ranked pair, so it is bytes
        return concat(ids(IM_START, SYSTEM, '\n', YOU), bytes(" are a helpful assistant."), ids(IM_END, '\n'));
    }

    @Test
    void defaultSystemPromptIsAddedAndEachPieceEncodedSeparately() {
        int[] expected = concat(defaultSystemBlock(),
                ids(IM_START, USER, '\n', 'h', 'i', IM_END, '\n'),
                ids(IM_START, ASSISTANT, '\n', AB, SPACE2, 'c', IM_END, '\n'));
        assertArrayEquals(expected, new ChatTemplate(tok).encode(List.of(ChatMessage.user("hi"), ChatMessage.assistant("ab  c"))));
    }

    @Test
    void aLeadingSystemMessageReplacesTheDefault() {
        int[] expected = concat(ids(IM_START, SYSTEM, '\n', 's', 'y', 's', IM_END, '\n'),
                ids(IM_START, USER, '\n', 'x', IM_END, '\n'));
        assertArrayEquals(expected, new ChatTemplate(tok).encode(List.of(ChatMessage.system("sys"), ChatMessage.user("x"))));
    }

    @Test
    void contentIsNotMergedWithTheNewlineBeforeIt() {
        // content "\n\nx": encoded on its own it starts with the piece "\n\n", not "\n\n\n"
        int[] ids = new ChatTemplate(tok).encode(List.of(ChatMessage.system("s"), ChatMessage.user("\n\nx")));
        assertArrayEquals(concat(ids(IM_START, SYSTEM, '\n', 's', IM_END, '\n'), ids(IM_START, USER, '\n', '\n', '\n', 'x', IM_END, '\n')), ids);
    }

    @Test
    void generationPromptOpensAnAssistantTurn() {
        int[] ids = new ChatTemplate(tok).encodeForGeneration(List.of(ChatMessage.user("hi")));
        assertArrayEquals(concat(defaultSystemBlock(), ids(IM_START, USER, '\n', 'h', 'i', IM_END, '\n', IM_START, ASSISTANT, '\n')), ids);
    }

    @Test
    void renderedTextDecodesFromTheIds() {
        List<ChatMessage> c = List.of(ChatMessage.user("hi"), ChatMessage.assistant("ab  c"));
        ChatTemplate t = new ChatTemplate(tok);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                + "<|im_start|>assistant\nab  c<|im_end|>\n", t.render(c));
        assertEquals(t.render(c), tok.decode(t.encode(c)));
    }

    @Test
    void emptyConversationIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ChatTemplate(tok).encode(List.of()));
    }

    @Test
    void tokenizerWithoutChatTokensIsRejected(@TempDir Path dir) throws IOException {
        // a byte-level tokenizer.json with no merges and no added tokens
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode vocab = json.createObjectNode();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(zq.formats.tokenizer.ByteLevelAlphabet.charOf(b)), b);
        Path file = dir.resolve("tokenizer.json");
        java.nio.file.Files.writeString(file, "{\"model\":{\"type\":\"BPE\",\"vocab\":" + json.writeValueAsString(vocab)
                + ",\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false},"
                + "\"decoder\":{\"type\":\"ByteLevel\"}}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ChatTemplate(zq.formats.tokenizer.TokenizerLoader.load(file)));
        assertTrue(e.getMessage().contains("<|im_start|>"), e.getMessage());
    }
}
