package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Expected strings are CPython 3's {@code bytes.decode("utf-8", "replace")} of the same bytes. */
class LossyUtf8Test {
    static String dec(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) bytes[i];
        return LossyUtf8.decode(b);
    }

    @Test
    void eachMaximalIllFormedSubpartIsOneReplacement() {
        assertEquals("\uFFFD", dec(0xE4, 0xB8));                 // truncated 3-byte sequence
        assertEquals("\uFFFD\uFFFD\uFFFD", dec(0xED, 0xA0, 0x80)); // encoded surrogate (the JDK gives one)
        assertEquals("\uFFFD", dec(0xF0, 0x9F, 0x98));           // truncated emoji
        assertEquals("\uFFFD\uFFFD", dec(0xC0, 0xAF));           // overlong
        assertEquals("\uFFFDa", dec(0xE4, 0xB8, 'a'));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", dec(0xF4, 0x90, 0x80, 0x80)); // above U+10FFFF
        assertEquals("\uFFFD", dec(0xFF));
        assertEquals("\uFFFD\uFFFD\uFFFD", dec(0xE0, 0x80, 0x80));
        assertEquals("\uFFFD\uFFFD", dec(0x80, 0x80));
    }

    @Test
    void wellFormedTextIsUnchanged() {
        String s = "aé中😀\uFFFD";
        assertEquals(s, LossyUtf8.decode(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertTrue(LossyUtf8.isValid(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertFalse(LossyUtf8.isValid(new byte[] {(byte) 0xE4}));
    }
}
