package zq.formats.tokenizer;

import zq.formats.text.MixedText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 360Zhinao tokenizer on a vocabulary trained here on mixed Chinese / English / code text. */
class ZhinaoRoundTripTest {
    static final Pattern SPLIT = Pattern.compile(ZhinaoTokenizer.SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
    static BpeTraining.Vocabulary vocab;
    static ZhinaoTokenizer tok;

    @BeforeAll
    static void train(@TempDir Path dir) throws IOException {
        vocab = BpeTraining.train(MixedText.generate(7, 25_000), SPLIT, 250);
        tok = ZhinaoTokenizer.load(vocab.writeTiktoken(dir.resolve("360.tiktoken")));
    }

    static String corpus() {
        return MixedText.generate(8, 30_000)
                + "\nEdge: \t\ttabs,   three, \u00a0nbsp, e\u0301, 🇨🇳👍🏽, 12345, it's I'M, \r\n\r\n end  ";
    }

    @Test
    void decodeOfEncodeIsTheIdentity() {
        String text = corpus();
        int[] ids = tok.encode(text);
        assertEquals(text, tok.decode(ids));
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(ids.length < bytes * 3 / 4, "merges should shorten the text: " + ids.length + " tokens for " + bytes + " bytes");
    }

    @Test
    void eachLineRoundTripsOnItsOwn() {
        for (String line : corpus().split("\n")) assertEquals(line, tok.decode(tok.encode(line)));
    }

    @Test
    void idsMatchAPlainReferenceImplementation() {
        // Reference: pre-process as SPTokenizer.convert does, cut out [spaceN], then plain tiktoken BPE.
        NaiveTiktoken naive = new NaiveTiktoken(vocab.tokens(), SPLIT);
        String text = corpus();
        String converted = text.replace("        ", "[space8]").replace("    ", "[space4]").replace("   ", "[space3]").replace("  ", "[space2]");
        List<Integer> expected = new ArrayList<>();
        Matcher m = Pattern.compile("\\[space([2348])]").matcher(converted);
        int at = 0;
        int firstSpecial = vocab.tokens().size();
        while (m.find()) {
            expected.addAll(naive.encodeOrdinary(converted.substring(at, m.start())));
            expected.add(firstSpecial + Arrays.asList("2", "3", "4", "8").indexOf(m.group(1)) + 5);
            at = m.end();
        }
        expected.addAll(naive.encodeOrdinary(converted.substring(at)));
        assertEquals(expected, Arrays.stream(tok.encode(text)).boxed().toList());
    }

    @Test
    void longPiecesMatchTheReference() {
        // pieces of thousands of bytes (one letter run, one CJK run) go through the heap merge
        NaiveTiktoken naive = new NaiveTiktoken(vocab.tokens(), SPLIT);
        StringBuilder letters = new StringBuilder();
        StringBuilder hanzi = new StringBuilder();
        java.util.Random rnd = new java.util.Random(3);
        String words = "thequantizationmodelweighttokenizer";
        String zh = "模型量化推理校准数据集分词器测试性能内存";
        for (int i = 0; i < 700; i++) {
            letters.append(words.charAt(rnd.nextInt(words.length())));
            hanzi.append(zh.charAt(rnd.nextInt(zh.length())));
        }
        for (String s : new String[] {letters.toString(), hanzi.toString(), "a".repeat(701)}) {
            assertEquals(naive.encodeOrdinary(s), Arrays.stream(tok.encode(s)).boxed().toList());
        }
    }
}
