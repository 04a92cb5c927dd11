package zq.formats.tokenizer;

/** Small text helpers shared by the tokenizers. */
final class Texts {
    private Texts() {}

    /**
     * Replaces unpaired UTF-16 surrogates with U+FFFD, as tiktoken does before encoding a Python
     * string that cannot be encoded as UTF-8 (Java's encoder would write '?').
     */
    static String replaceLoneSurrogates(String s) {
        StringBuilder out = null;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean lone;
            if (Character.isHighSurrogate(c)) {
                lone = i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1));
                if (!lone) {
                    if (out != null) out.append(c).append(s.charAt(i + 1));
                    i++;
                    continue;
                }
            } else {
                lone = Character.isLowSurrogate(c);
            }
            if (lone && out == null) out = new StringBuilder(n).append(s, 0, i);
            if (out != null) out.append(lone ? '\uFFFD' : c);
        }
        return out == null ? s : out.toString();
    }

    /** Token bytes for display: the text if they are valid UTF-8, otherwise non-ASCII bytes as {@code \xNN}. */
    static String displayBytes(byte[] bytes) {
        if (LossyUtf8.isValid(bytes)) return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            int v = b & 0xFF;
            if (v < 0x80) sb.append((char) v);
            else sb.append(String.format("\\x%02x", v));
        }
        return sb.toString();
    }
}
