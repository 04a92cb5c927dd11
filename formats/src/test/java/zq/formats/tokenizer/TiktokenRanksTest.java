package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.CheckpointException;

class TiktokenRanksTest {
    @TempDir Path dir;

    static String allBytes() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 256; i++) sb.append(b64(new byte[] {(byte) i})).append(' ').append(i).append('\n');
        return sb.toString();
    }

    static String b64(byte[] b) { return Base64.getEncoder().encodeToString(b); }

    Path write(String content) throws IOException {
        Path f = dir.resolve("v.tiktoken");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void readsRanksAndLooksUpBytes() throws IOException {
        // "aGVsbG8=" is base64 of "hello"; CRLF line ends and a blank line are accepted as Python does
        TiktokenRanks r = TiktokenRanks.read(write(allBytes().replace("\n", "\r\n") + "\naGVsbG8= 256\r\n"));
        assertEquals(257, r.count());
        assertArrayEquals("hello".getBytes(), r.bytes(256));
        assertEquals(256, r.rankOf("xhellox".getBytes(), 1, 6));
        assertEquals('h', r.rankOf("h".getBytes(), 0, 1));
        assertEquals(-1, r.rankOf("hell".getBytes(), 0, 4));
    }

    @Test
    void errorsNameTheFileLineAndProblem() throws IOException {
        assertError(allBytes() + "aGVsbG8=\n", "line 257", "found 1 fields");
        assertError(allBytes() + "!!! 256\n", "line 257", "base64");
        assertError(allBytes() + "aGVsbG8= x\n", "line 257", "not an integer");
        assertError(allBytes() + "aGVsbG8= 5\n", "line 257", "rank 5 also appears on line 6");
        assertError(allBytes() + b64("a".getBytes()) + " 300\n", "repeat those of rank 97");
        assertError(allBytes().replace(b64(new byte[] {(byte) 0xFF}) + " 255\n", ""), "0xFF");
        assertError("", "no ranks");
    }

    @Test
    void missingFileIsReported() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TiktokenRanks.read(dir.resolve("none.tiktoken")));
        assertTrue(e.getMessage().contains("none.tiktoken"), e.getMessage());
    }

    private void assertError(String content, String... fragments) throws IOException {
        Path f = write(content);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TiktokenRanks.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String fragment : fragments) assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
