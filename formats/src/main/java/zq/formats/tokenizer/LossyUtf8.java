package zq.formats.tokenizer;

/**
 * UTF-8 decoding that replaces each maximal ill-formed subpart with one U+FFFD (the Unicode
 * recommended practice), which is what Python's {@code bytes.decode("utf-8", "replace")} and Rust's
 * {@code String::from_utf8_lossy} do. The JDK decoder differs on some inputs (an encoded surrogate
 * {@code ED A0 80} gives one U+FFFD instead of three), so decoded text would not match the reference.
 */
public final class LossyUtf8 {
    private LossyUtf8() {}

    public static String decode(byte[] bytes) { return decode(bytes, 0, bytes.length); }

    public static String decode(byte[] bytes, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int need;
            int lower = 0x80;
            int upper = 0xBF;
            int cp;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0) lower = 0xA0;       // no overlong 3-byte forms
                if (b == 0xED) upper = 0x9F;       // no surrogates
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                cp = b & 0x07;
                if (b == 0xF0) lower = 0x90;       // no overlong 4-byte forms
                if (b == 0xF4) upper = 0x8F;       // nothing above U+10FFFF
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            boolean complete = true;
            for (int k = 0; k < need; k++, j++) {
                int c = j < to ? bytes[j] & 0xFF : -1;
                int lo = k == 0 ? lower : 0x80;
                int hi = k == 0 ? upper : 0xBF;
                if (c < lo || c > hi) {
                    complete = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (complete) {
                out.appendCodePoint(cp);
            } else {
                out.append('\uFFFD');
            }
            i = j;
        }
        return out.toString();
    }

    /** Whether {@code bytes} are well-formed UTF-8 as a whole. */
    public static boolean isValid(byte[] bytes) {
        // Every replaced subpart re-encodes as EF BF BD, which differs from the ill-formed bytes.
        return java.util.Arrays.equals(decode(bytes).getBytes(java.nio.charset.StandardCharsets.UTF_8), bytes);
    }
}
