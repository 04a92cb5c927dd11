package zq.formats.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's {@code bytes_to_unicode}: each byte value as a printable character, so byte-level BPE
 * vocabularies can be stored as strings ({@code ' '} is {@code 'Ġ'}, {@code '\n'} is {@code 'Ċ'}).
 * Printable Latin-1 bytes map to themselves; the other 68 map to U+0100.. in byte order.
 */
public final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {}

    /** The character standing for byte {@code b}. */
    public static char charOf(int b) { return BYTE_TO_CHAR[b & 0xFF]; }

    /** The UTF-8 bytes of {@code text}, each written as its alphabet character. */
    public static String encode(String text) { return encode(text.getBytes(StandardCharsets.UTF_8)); }

    /** {@code bytes}, each written as its alphabet character. */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** The bytes a byte-level token stands for, or null if it has a character outside the alphabet. */
    public static byte[] decodeOrNull(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }
}
