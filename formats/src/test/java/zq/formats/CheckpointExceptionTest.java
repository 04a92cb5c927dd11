package zq.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CheckpointExceptionTest {
    /** A name read from a hostile file must not break the one-line error (the fuzzer's GGUF keys held line breaks). */
    @Test void controlCharactersOfTheInputAreEscaped() {
        assertEquals("f.gguf: metadata 'a\\nb\\tc\\u0000' is bad", new CheckpointException("f.gguf: metadata 'a\nb\tc\0' is bad").getMessage());
        assertEquals("plain 日本", new CheckpointException("plain 日本").getMessage());
    }
}
