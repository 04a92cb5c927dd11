package zq.formats.tokenizer;

/**
 * A hand-written matcher equivalent to the Qwen2 / 360Zhinao pre-tokenizer regex
 * <pre>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</pre>
 * and to Llama-3's, which differs only in {@code \p{N}{1,3}}. The alternatives are tried in order at
 * each position, as the regex does; every character is covered by some alternative, so there are no
 * gaps between matches. {@code \s} is Unicode White_Space, as with {@code UNICODE_CHARACTER_CLASS}.
 */
final class QwenStyleScanner implements PieceSplitter {
    static final String QWEN2_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final int maxDigits;

    QwenStyleScanner(int maxDigits) { this.maxDigits = maxDigits; }

    @Override
    public void matches(String s, int from, int to, Sink sink) {
        int n = to;
        int i = from;
        while (i < n) {
            int end = matchAt(s, i, n);
            sink.piece(i, end);
            i = end;
        }
    }

    private int matchAt(String s, int i, int n) {
        int cp = s.codePointAt(i);
        int next = i + Character.charCount(cp);
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (cp == '\'' && next < n) {
            int k = contraction(s, next, n);
            if (k > 0) return next + k;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (isLetter(cp)) return endOfLetters(s, i, n);
        if (cp != '\r' && cp != '\n' && !isNumber(cp) && next < n && isLetter(s.codePointAt(next))) {
            return endOfLetters(s, next, n);
        }
        // \p{N}{1,maxDigits}
        if (isNumber(cp)) {
            int j = next;
            for (int count = 1; count < maxDigits && j < n; count++) {
                int c = s.codePointAt(j);
                if (!isNumber(c)) break;
                j += Character.charCount(c);
            }
            return j;
        }
        // ' '?[^\s\p{L}\p{N}]+[\r\n]*
        int j = cp == ' ' ? next : i;
        if (j < n && isOther(s.codePointAt(j))) {
            while (j < n) {
                int c = s.codePointAt(j);
                if (!isOther(c)) break;
                j += Character.charCount(c);
            }
            while (j < n && (s.charAt(j) == '\r' || s.charAt(j) == '\n')) j++;
            return j;
        }
        // cp is whitespace here (a letter, digit or other character matched above)
        int runEnd = i;
        int lastNewline = -1;
        while (runEnd < n && isWhitespace(s.charAt(runEnd))) {
            char c = s.charAt(runEnd);
            if (c == '\r' || c == '\n') lastNewline = runEnd;
            runEnd++;
        }
        if (lastNewline >= 0) return lastNewline + 1;      // \s*[\r\n]+
        if (runEnd == n || runEnd - i == 1) return runEnd; // \s+(?!\S) at the end, or \s+
        return runEnd - 1;                                 // \s+(?!\S): leave one space for the next word
    }

    /** Length of a contraction after the apostrophe at {@code from}, or 0. */
    private static int contraction(String s, int from, int n) {
        char c1 = s.charAt(from);
        if (is(c1, 's') || is(c1, 't') || is(c1, 'm') || is(c1, 'd')) return 1;
        if (from + 1 < n) {
            char c2 = s.charAt(from + 1);
            if ((is(c1, 'r') || is(c1, 'v')) && is(c2, 'e')) return 2;
            if (is(c1, 'l') && is(c2, 'l')) return 2;
        }
        return 0;
    }

    /** Case-insensitive match with Unicode case folding, as java.util.regex does ('ſ' is 's'). */
    private static boolean is(char c, char lower) {
        return c == lower || Character.toLowerCase(Character.toUpperCase(c)) == lower;
    }

    private static int endOfLetters(String s, int from, int n) {
        int j = from;
        while (j < n) {
            int c = s.codePointAt(j);
            if (!isLetter(c)) break;
            j += Character.charCount(c);
        }
        return j;
    }

    static boolean isLetter(int cp) {
        if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
        return Character.isLetter(cp);
    }

    static boolean isNumber(int cp) {
        if (cp < 0x80) return cp >= '0' && cp <= '9';
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Unicode White_Space (all in the BMP). */
    static boolean isWhitespace(int c) {
        if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
        if (c < 0x85) return false;
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    private static boolean isOther(int cp) { return !isWhitespace(cp) && !isLetter(cp) && !isNumber(cp); }
}
