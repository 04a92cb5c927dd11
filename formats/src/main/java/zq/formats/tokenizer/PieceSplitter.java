package zq.formats.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the matches of a pre-tokenizer pattern, left to right, as {@code Matcher.find} would.
 * The Qwen2 / 360Zhinao and Llama-3 patterns get a hand-written scanner ({@link QwenStyleScanner}),
 * several times faster than {@code java.util.regex}; any other pattern runs as a regex.
 */
interface PieceSplitter {

    /** Receives one match {@code text[start..end)}. */
    interface Sink {
        void piece(int start, int end);
    }

    /**
     * Reports every non-empty match in {@code text[from..to)} to {@code sink}, in order, treating
     * the slice ends as the ends of the text (as matching the substring would).
     */
    void matches(String text, int from, int to, Sink sink);

    /** The splitter for {@code regex}, compiled with Unicode character classes. */
    static PieceSplitter of(String regex, Pattern compiled) {
        if (regex.equals(QwenStyleScanner.QWEN2_REGEX)) return new QwenStyleScanner(1);
        if (regex.equals(QwenStyleScanner.LLAMA3_REGEX)) return new QwenStyleScanner(3);
        return (text, from, to, sink) -> {
            Matcher m = compiled.matcher(text).region(from, to);
            while (m.find()) {
                if (m.end() > m.start()) sink.piece(m.start(), m.end());
            }
        };
    }
}
