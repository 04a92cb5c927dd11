package zq.formats.tokenizer;

import zq.formats.text.MixedText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merges reconstructed from tiktoken ranks, checked against hand-worked vocabularies, against the
 * merge history of a BPE training run (which the ranks were produced by), and, for encoding,
 * against the plain tiktoken loop in {@link NaiveTiktoken}.
 */
class MergeReconstructionTest {
    static final Pattern SPLIT = Pattern.compile(ZhinaoTokenizer.SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
    @TempDir Path dir;

    TiktokenRanks ranks(String name, String... tokens) throws IOException {
        List<byte[]> all = new ArrayList<>();
        for (int b = 0; b < 256; b++) all.add(new byte[] {(byte) b});
        for (String t : tokens) all.add(t.getBytes(StandardCharsets.UTF_8));
        return TiktokenRanks.read(new BpeTraining.Vocabulary(all, List.of()).writeTiktoken(dir.resolve(name + ".tiktoken")));
    }

    @Test
    void handWorkedVocabulary() throws IOException {
        // 256 ab, 257 bc, 258 abc, 259 cd, 260 xyz, 261 abcd
        TiktokenRanks r = ranks("hand", "ab", "bc", "abc", "cd", "xyz", "abcd");
        MergeReconstruction m = MergeReconstruction.of(r);
        // ab = a+b; bc = b+c; abc: lower ranks merge ab (256) first, leaving ab+c; cd = c+d;
        // xyz: no pair of x, y, z has a rank, three parts, unreachable; abcd: ab, then abc (258 < cd 259): abc+d
        assertEquals(List.of(new MergeReconstruction.Merge('a', 'b', 256), new MergeReconstruction.Merge('b', 'c', 257),
                new MergeReconstruction.Merge(256, 'c', 258), new MergeReconstruction.Merge('c', 'd', 259),
                new MergeReconstruction.Merge(258, 'd', 261)), m.merges());
        assertEquals(List.of(260), m.unreachable());
        assertEquals(List.of(), m.rankInversions());
        assertEquals("ab c", m.mergeString(m.merges().get(2)));
        assertEquals("Ġb", MergeReconstruction.of(ranks("space", " b")).byteLevelToken(256));
    }

    @Test
    void mergesOfATrainedVocabularyAreItsTrainingHistory() throws IOException {
        BpeTraining.Vocabulary v = BpeTraining.train(MixedText.generate(41, 20_000), SPLIT, 300);
        TiktokenRanks r = TiktokenRanks.read(v.writeTiktoken(dir.resolve("trained.tiktoken")));
        MergeReconstruction m = MergeReconstruction.of(r);
        Map<Integer, int[]> firstMergeOf = new HashMap<>();
        for (int[] merge : v.merges()) firstMergeOf.putIfAbsent(merge[2], merge);
        assertEquals(v.tokens().size() - 256, m.merges().size(), "one merge per multi-byte token");
        assertEquals(List.of(), m.unreachable());
        for (MergeReconstruction.Merge merge : m.merges()) {
            int[] trained = firstMergeOf.get(merge.merged());
            assertEquals(Arrays.toString(new int[] {trained[0], trained[1]}), Arrays.toString(new int[] {merge.left(), merge.right()}),
                    "merge building rank " + merge.merged());
        }
    }

    /** BPE by merge priority (zq's heap merger over the reconstructed merges) against the plain tiktoken loop. */
    static List<Integer> mergeBpe(MergeReconstruction m, String text) {
        PairTable pairs = new PairTable(m.merges().size());
        for (MergeReconstruction.Merge merge : m.merges()) pairs.put(merge.left(), merge.right(), merge.merged(), merge.merged());
        ByteBpe bpe = new ByteBpe(m.ranks().table(), pairs, true);
        IntList out = new IntList();
        var matcher = SPLIT.matcher(text);
        while (matcher.find()) {
            byte[] piece = matcher.group().getBytes(StandardCharsets.UTF_8);
            bpe.encode(piece, piece.length, out);
        }
        return Arrays.stream(out.toArray()).boxed().toList();
    }

    @Test
    void mergePriorityReproducesTiktokenOnATrainedVocabulary() throws IOException {
        BpeTraining.Vocabulary v = BpeTraining.train(MixedText.generate(42, 20_000), SPLIT, 300);
        List<byte[]> tokens = new ArrayList<>(v.tokens());
        for (String w : new String[] {" quantization", "模型量化", " tokenizers"}) {
            byte[] b = w.getBytes(StandardCharsets.UTF_8);
            if (tokens.stream().noneMatch(t -> Arrays.equals(t, b))) tokens.add(b);
        }
        TiktokenRanks r = TiktokenRanks.read(new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(dir.resolve("v.tiktoken")));
        MergeReconstruction m = MergeReconstruction.of(r);
        NaiveTiktoken naive = new NaiveTiktoken(tokens, SPLIT);
        Random rnd = new Random(6);
        String text = MixedText.generate(43, 20_000);
        for (String line : text.split("\n")) assertEquals(naive.encodeOrdinary(line), mergeBpe(m, line), line);
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < 8; k++) sb.append(HfTokenizerOracleTest.ALPHABET[rnd.nextInt(HfTokenizerOracleTest.ALPHABET.length)]);
            assertEquals(naive.encodeOrdinary(sb.toString()), mergeBpe(m, sb.toString()), sb.toString());
        }
    }

    /**
     * The corner merges cannot reproduce (docs/tokenizers.md): "abc" ranks before its part "ab".
     * tiktoken builds ab (257) inside a longer piece, then ab+c = abc (256); no merge list builds
     * abc, whose lower ranks leave a, b, c. A whole pre-token "abc" is still right (ignore_merges).
     */
    @Test
    void aRankInversionIsReportedAndIsWhereIdsDiffer() throws IOException {
        TiktokenRanks r = ranks("inverted", "abc", "ab");
        MergeReconstruction m = MergeReconstruction.of(r);
        assertEquals(List.of(256), m.rankInversions());
        assertEquals(List.of(256), m.unreachable());
        NaiveTiktoken naive = new NaiveTiktoken(tokensOf(r), SPLIT);
        assertEquals(List.of('z' + 0, 256), naive.encodeOrdinary("zabc"));
        assertEquals(List.of('z' + 0, 257, 'c' + 0), mergeBpe(m, "zabc"));
        assertNotEquals(naive.encodeOrdinary("zabc"), mergeBpe(m, "zabc"));
        assertEquals(naive.encodeOrdinary("abc"), mergeBpe(m, "abc"));
        assertTrue(m.merges().contains(new MergeReconstruction.Merge('a', 'b', 257)));
    }

    /**
     * The sample vocabulary has rank inversions (as BPE-trained vocabularies do: "the" may rank
     * before "he"), so exactness is not proven by {@link MergeReconstruction#rankInversions()}; a
     * divergence needs tiktoken to build the higher-ranked part next to the rest first, so pieces
     * made of two or three whole tokens are where it would show. None does.
     */
    @Test
    void sampleVocabularyPiecesOfTwoOrThreeTokensMatchTiktoken() throws IOException {
        TiktokenRanks r = TiktokenRanks.read(HfJsOracle.repoRoot().resolve("samples/zhinao-tiny/vocab/360.tiktoken"));
        MergeReconstruction m = MergeReconstruction.of(r);
        assertEquals(List.of(), m.unreachable());
        assertEquals(r.count() - 256, m.merges().size());
        assertTrue(!m.rankInversions().isEmpty(), "the sample is expected to have inversions, so the fuzzing below matters");
        List<byte[]> tokens = tokensOf(r);
        NaiveTiktoken naive = new NaiveTiktoken(tokens, SPLIT);
        Random rnd = new Random(7);
        int checked = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 2 + rnd.nextInt(2);
            for (int k = 0; k < n; k++) sb.append(new String(tokens.get(256 + rnd.nextInt(tokens.size() - 256)), StandardCharsets.UTF_8));
            String text = sb.toString();
            if (text.indexOf('\uFFFD') >= 0) continue; // a token that is part of a character
            assertEquals(naive.encodeOrdinary(text), mergeBpe(m, text), text);
            checked++;
        }
        assertTrue(checked > 15_000, checked + " pieces checked");
    }

    static List<byte[]> tokensOf(TiktokenRanks r) {
        List<byte[]> t = new ArrayList<>();
        for (int i = 0; i < r.rankLimit(); i++) t.add(r.bytes(i));
        return t;
    }
}
