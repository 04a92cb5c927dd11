package zq.formats.tokenizer;

import zq.formats.text.MixedText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The hand-written scanner finds exactly the matches java.util.regex finds for the same pattern. */
class QwenStyleScannerTest {
    static final String[] ALPHABET = {
            "a", "Z", "s", "S", "t", "re", "RE", "ve", "m", "ll", "LL", "d", "ſ", "K", "İ", "ß", "é", "e\u0301", "中", "ǅ", "ʰ",
            "'", "’", " ", "  ", "\t", "\n", "\r", "\r\n", "\u000B", "\f", "\u0085", "\u00a0", "\u1680", "\u2003", "\u2028",
            "\u202F", "\u3000", "\u200b", "\u001C", "1", "9", "٣", "Ⅻ", "½", "²", "😀", "👍🏽", "\uD835\uDC00", "\uD801\uDC00",
            ".", ",", "(", "_", "-", "$", "\u0301", "\uFE0F", "\u200D"};

    static List<String> regexMatches(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) out.add(s.substring(m.start(), m.end()));
        return out;
    }

    static List<String> scannerMatches(PieceSplitter splitter, String s) {
        List<String> out = new ArrayList<>();
        splitter.matches(s, 0, s.length(), (start, end) -> out.add(s.substring(start, end)));
        return out;
    }

    void check(String regex) {
        Pattern p = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        PieceSplitter scanner = PieceSplitter.of(regex, p);
        assertInstanceOf(QwenStyleScanner.class, scanner);
        Random rnd = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(10);
            for (int k = 0; k < n; k++) sb.append(ALPHABET[rnd.nextInt(ALPHABET.length)]);
            String s = sb.toString();
            assertEquals(regexMatches(p, s), scannerMatches(scanner, s), () -> "matches of " + s.codePoints()
                    .mapToObj(c -> String.format("U+%04X", c)).toList());
        }
        String text = MixedText.generate(4, 100_000);
        assertEquals(regexMatches(p, text), scannerMatches(scanner, text));
    }

    @Test
    void qwen2Pattern() { check(QwenStyleScanner.QWEN2_REGEX); }

    @Test
    void llama3Pattern() { check(QwenStyleScanner.LLAMA3_REGEX); }
}
