package zq.formats.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.text.TinyZhinao.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.CheckpointException;
import zq.formats.tokenizer.ZhinaoTokenizer;

class CorpusReadersTest {
    static ZhinaoTokenizer tok;
    @TempDir Path dir;

    @BeforeAll
    static void load(@TempDir Path d) throws IOException { tok = TinyZhinao.create(d); }

    Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    @Test
    void plainTextIsEncodedWhole() throws IOException {
        assertArrayEquals(concat(ids(AB, SPACE4, 'x', '\n'), bytes("中")), TextCorpus.load(write("a.txt", "ab    x\n中"), (String) null, tok).tokens());
    }

    @Test
    void jsonlDocumentsAreJoinedWithABlankLine() throws IOException {
        Path f = write("d.jsonl", "{\"text\":\"ab\",\"id\":1}\n\n{\"text\":\"x\"}\n");
        assertArrayEquals(ids(AB, '\n', '\n', 'x'), TextCorpus.load(f, "jsonl", tok).tokens());
    }

    @Test
    void jsonlErrorsNameTheLine() throws IOException {
        assertCheckpointError(write("e1.jsonl", "{\"text\":\"ab\"}\n{\"txt\":\"x\"}\n"), "jsonl", "line 2", "\"text\"");
        assertCheckpointError(write("e2.jsonl", "{\"text\":\"ab\"}\nnot json\n"), "jsonl", "line 2", "not valid JSON", "column 1");
        assertCheckpointError(write("e3.jsonl", "\n\n"), "jsonl", "no JSON lines");
    }

    /** 360Zhinao fine-tuning format, ids built by hand from finetune.py's layout. */
    @Test
    void conversationFileRendersToTheHandBuiltIds() throws IOException {
        Path f = write("sft.json", """
                [{"id": "identity_0", "conversations": [
                    {"from": "user", "value": "hi"},
                    {"from": "assistant", "value": "ab  c"}]},
                 {"id": "identity_1", "conversations": [
                    {"from": "system", "value": "sys"},
                    {"from": "user", "value": "x"}]}]
                """);
        int[] expected = concat(
                ids(IM_START, SYSTEM, '\n', YOU), bytes(" are a helpful assistant."), ids(IM_END, '\n'),
                ids(IM_START, USER, '\n', 'h', 'i', IM_END, '\n'),
                ids(IM_START, ASSISTANT, '\n', AB, SPACE2, 'c', IM_END, '\n'),
                ids(IM_START, SYSTEM, '\n', 's', 'y', 's', IM_END, '\n'),
                ids(IM_START, USER, '\n', 'x', IM_END, '\n'));
        assertArrayEquals(expected, TextCorpus.load(f, (String) null, tok).tokens());
    }

    @Test
    void conversationErrors() throws IOException {
        assertCheckpointError(write("c1.json", "{\"conversations\":[]}"), null, "JSON array");
        assertCheckpointError(write("c2.json", "[{\"id\":1}]"), null, "conversation 0", "\"conversations\"");
        assertCheckpointError(write("c3.json", "[{\"conversations\":[{\"from\":\"user\",\"value\":\"a\"}]},"
                + "{\"conversations\":[{\"from\":\"user\"}]}]"), null, "conversation 1 turn 0", "\"value\"");
        assertCheckpointError(write("c4.json", "[]"), null, "no conversations");
        assertCheckpointError(write("c5.json", "[{\"conversations\":[{\"from\":\"user\",\"value\":\"a\"}]}, 3]"), null, "element 1");
    }

    @Test
    void tokenIdsAreReadAcrossLines() throws IOException {
        assertArrayEquals(ids(1, 2, 3, 270, 0), TextCorpus.load(write("t.tokens", " 1 2\t3\n\n270\r\n0\n"), (String) null, tok).tokens());
        assertArrayEquals(ids(5, 100000), TextCorpus.load(write("t2.ids", "5 100000"), (String) null, null).tokens());
    }

    @Test
    void tokenIdErrors() throws IOException {
        assertCheckpointError(write("b1.tokens", "1 2\n3 x4\n"), null, "line 2", "'x4'");
        assertCheckpointError(write("b2.tokens", "1 272\n"), null, "line 1", "272", "0..271");
        assertCheckpointError(write("b3.tokens", "1 -1\n"), null, "token id -1");
        assertCheckpointError(write("b4.tokens", " \n"), null, "no token ids");
    }

    @Test
    void invalidUtf8TextIsAnError() throws IOException {
        Path f = dir.resolve("bad.txt");
        Files.write(f, new byte[] {'a', (byte) 0xE4, 'b'});
        assertCheckpointError(f, null, "not valid UTF-8");
    }

    @Test
    void missingFileAndMissingTokenizerAreReported() throws IOException {
        assertCheckpointError(dir.resolve("none.txt"), null, "no such file");
        Path f = write("x.txt", "ab");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextCorpus.load(f, (String) null, null));
        assertTrue(e.getMessage().contains("needs a tokenizer"), e.getMessage());
    }

    private void assertCheckpointError(Path f, String format, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextCorpus.load(f, format, tok));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), e.getMessage());
    }

    @Test
    void formatsByNameAndExtension() {
        assertEquals(CorpusFormat.CONVERSATIONS, CorpusFormat.parse("Conversations"));
        assertEquals(CorpusFormat.TOKENS, CorpusFormat.detect(Path.of("x/calib.ids.zst")));
        assertEquals(CorpusFormat.TEXT, CorpusFormat.detect(Path.of("wiki.test.raw")));
        assertEquals(CorpusFormat.JSONL, CorpusFormat.detect(Path.of("c4.JSONL.GZ")));
        assertEquals(CorpusFormat.CONVERSATIONS, CorpusFormat.detect(Path.of("sft.json.bz2")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorpusFormat.detect(Path.of("data.parquet")));
        assertTrue(e.getMessage().contains("tokens|text|jsonl|conversations"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CorpusFormat.parse("csv"));
    }
}
