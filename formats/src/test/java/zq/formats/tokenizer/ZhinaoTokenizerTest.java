package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.CheckpointException;

/**
 * Hand-worked 360Zhinao encodings on a tiny vocabulary: ranks 0..255 are the single bytes (rank =
 * byte value, so 'a' = 97), then the tokens below; the 11 specials follow at 267..277.
 */
class ZhinaoTokenizerTest {
    static final int AB = 256, BC = 257, ABC = 258, CD = 259, AA = 260, XYZ = 261, TWENTY = 262, ZHONGWEN = 263,
            SPACE_B = 264, HELLO = 265, SPACE_WORLD = 266;
    static final int PAD = 267, UNK = 268, MASK = 269, EOD = 270, EOP = 271, SPACE2 = 272, SPACE3 = 273, SPACE4 = 274,
            SPACE8 = 275, IM_START = 276, IM_END = 277;
    static final int a = 'a', b = 'b', c = 'c', d = 'd';

    static ZhinaoTokenizer tok;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        List<byte[]> tokens = new ArrayList<>();
        for (int i = 0; i < 256; i++) tokens.add(new byte[] {(byte) i});
        for (String s : new String[] {"ab", "bc", "abc", "cd", "aa", "xyz", "20", "中文", " b", "hello", " world"}) {
            tokens.add(s.getBytes(StandardCharsets.UTF_8));
        }
        Path file = new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(dir.resolve("vocab/360.tiktoken"));
        tok = ZhinaoTokenizer.load(file);
    }

    @Test
    void specialsFollowTheRanksInPublishedOrder() {
        assertEquals(267, tok.ranks().count());
        assertEquals(PAD, tok.specialId("<pad>").getAsInt());
        assertEquals(EOD, tok.specialId("<eod>").getAsInt());
        assertEquals(SPACE8, tok.specialId("[space8]").getAsInt());
        assertEquals(IM_START, tok.specialId("<|im_start|>").getAsInt());
        assertEquals(IM_END, tok.specialId("<|im_end|>").getAsInt());
        assertEquals(278, tok.vocabSize());
        assertTrue(tok.isSpecial(SPACE2));
        assertFalse(tok.isSpecial(HELLO));
        assertFalse(tok.specialId("<|endoftext|>").isPresent());
    }

    @Test
    void mergesTheLowestRankedConcatenationFirst() {
        // a b c d: ab(256) < bc(257) < cd(259) -> [ab] c d; then abc(258) < cd(259) -> [abc] d
        assertArrayEquals(new int[] {ABC, d}, tok.encode("abcd"));
        // b c d: bc(257) < cd(259) -> [bc] d; "bcd" has no rank
        assertArrayEquals(new int[] {BC, d}, tok.encode("bcd"));
        // z a b c: ab first, then [ab]+c = "abc" has rank 258
        assertArrayEquals(new int[] {'z', ABC}, tok.encode("zabc"));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        assertArrayEquals(new int[] {AA, a}, tok.encode("aaa"));
        assertArrayEquals(new int[] {AA, AA}, tok.encode("aaaa"));
    }

    @Test
    void aWholePieceWithARankIsOneTokenEvenWithoutMergesToBuildIt() {
        assertArrayEquals(new int[] {XYZ}, tok.encode("xyz"));
        // "xyzw" has no rank, and no pair of x, y, z, w has one
        assertArrayEquals(new int[] {'x', 'y', 'z', 'w'}, tok.encode("xyzw"));
        assertArrayEquals(new int[] {ZHONGWEN}, tok.encode("中文"));
        // "中文字" has no rank and no two adjacent bytes of it do: nine byte tokens
        assertArrayEquals(bytesOf("中文字"), tok.encode("中文字"));
    }

    @Test
    void digitsAreSplitSingly() {
        assertArrayEquals(new int[] {'2', '0', '2', '4'}, tok.encode("2024"));
    }

    @Test
    void regexPiecesAreEncodedSeparately() {
        // "a b" -> pieces "a", " b"; " b" has a rank
        assertArrayEquals(new int[] {a, SPACE_B}, tok.encode("a b"));
        assertArrayEquals(new int[] {HELLO, SPACE_WORLD}, tok.encode("hello world"));
    }

    @Test
    void spaceRunsBecomeSpaceTokensLongestFirst() {
        assertArrayEquals(new int[] {a, SPACE2, b}, tok.encode("a  b"));
        assertArrayEquals(new int[] {a, SPACE3, b}, tok.encode("a   b"));
        assertArrayEquals(new int[] {a, SPACE4, b}, tok.encode("a    b"));
        // 5 -> [space4] + " ": the lone space joins "b"
        assertArrayEquals(new int[] {a, SPACE4, SPACE_B}, tok.encode("a     b"));
        assertArrayEquals(new int[] {a, SPACE4, SPACE2, b}, tok.encode("a      b"));
        assertArrayEquals(new int[] {a, SPACE8, b}, tok.encode("a        b"));
        assertArrayEquals(new int[] {a, SPACE8, SPACE_B}, tok.encode("a" + " ".repeat(9) + "b"));
        assertArrayEquals(new int[] {a, SPACE8, SPACE8, SPACE_B}, tok.encode("a" + " ".repeat(17) + "b"));
    }

    @Test
    void preprocessingIsSequentialReplacement() {
        assertEquals("[space4][space2]", ZhinaoTokenizer.preprocess("      "));
        assertEquals("[space4] ", ZhinaoTokenizer.preprocess("     "));
        assertEquals("[space8][space8] ", ZhinaoTokenizer.preprocess(" ".repeat(17)));
        assertEquals("[space8] ", ZhinaoTokenizer.preprocess(" ".repeat(9)));
        assertEquals("[space8][space3]", ZhinaoTokenizer.preprocess(" ".repeat(11)));
        assertEquals("a\nb\nc", ZhinaoTokenizer.preprocess("a<br>b[br]c"));
        assertEquals("a      b", ZhinaoTokenizer.postprocess("a[space4][space2]b"));
    }

    @Test
    void lineBreakMarkupBecomesNewlines() {
        assertArrayEquals(new int[] {a, '\n', b, '\n', c}, tok.encode("a<br>b[br]c"));
    }

    @Test
    void specialTokenTextInInputBecomesTheSpecialId() {
        assertArrayEquals(new int[] {IM_START, 'u', 's', 'e', 'r', '\n', 'h', 'i', IM_END},
                tok.encode("<|im_start|>user\nhi<|im_end|>"));
        assertArrayEquals(new int[] {'x', EOD, 'y'}, tok.encode("x<eod>y"));
        assertArrayEquals(new int[] {SPACE2}, tok.encode("[space2]"));
    }

    @Test
    void emojiAreByteTokens() {
        assertArrayEquals(new int[] {0xF0, 0x9F, 0x98, 0x80}, tok.encode("😀"));
        assertEquals("😀", tok.decode(new int[] {0xF0, 0x9F, 0x98, 0x80}));
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacter() {
        assertArrayEquals(bytesOf("\uFFFD"), tok.encode("\uD83D"));
    }

    @Test
    void decodeJoinsBytesAndRestoresSpaces() {
        assertEquals("a      b", tok.decode(new int[] {a, SPACE4, SPACE2, b}));
        assertEquals("中文", tok.decode(new int[] {ZHONGWEN}));
        assertEquals("<|im_start|>a<|im_end|>", tok.decode(new int[] {IM_START, a, IM_END}));
    }

    @Test
    void skipSpecialTokensKeepsSpaceTokens() {
        assertEquals("a  ", tok.decode(new int[] {IM_START, a, EOD, SPACE2, PAD, UNK, MASK, EOP, IM_END}, true));
    }

    @Test
    void invalidUtf8DecodesToReplacementCharacters() {
        assertEquals("\uFFFDa", tok.decode(new int[] {0xE4, a}));
        assertEquals("\uFFFD", tok.decode(new int[] {0xF0, 0x9F}));
        // a special token between the halves of a character: both halves are ill-formed
        assertEquals("\uFFFD<eod>\uFFFD", tok.decode(new int[] {0xE4, 0xB8, EOD, 0xAD}));
    }

    @Test
    void pieces() {
        assertEquals("中文", tok.piece(ZHONGWEN));
        assertEquals(" world", tok.piece(SPACE_WORLD));
        assertEquals("\\xe4", tok.piece(0xE4));
        assertEquals("[space4]", tok.piece(SPACE4));
        assertArrayEquals(" b".getBytes(StandardCharsets.UTF_8), tok.tokenBytes(SPACE_B));
    }

    @Test
    void unknownIdsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {a, 278}));
        assertTrue(e.getMessage().contains("278"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.piece(-1));
    }

    @Test
    void roundTripOfTextWithSpacesAndSpecials() {
        for (String s : new String[] {"a      b", "x  <|im_start|>  y", "  leading and trailing   ", "中文 2024 😀\n\n\tend"}) {
            assertEquals(s, tok.decode(tok.encode(s)), s);
        }
    }

    @Test
    void rankThatCollidesWithASpecialIdIsRejected(@TempDir Path dir) throws IOException {
        // 257 ranks (0..255 and 257) -> specials start at 257, where a rank already is
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 256; i++) sb.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) i})).append(' ').append(i).append('\n');
        sb.append(java.util.Base64.getEncoder().encodeToString("ab".getBytes(StandardCharsets.US_ASCII))).append(" 257\n");
        Path f = dir.resolve("gap.tiktoken");
        java.nio.file.Files.writeString(f, sb);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ZhinaoTokenizer.load(f));
        assertTrue(e.getMessage().contains("257") && e.getMessage().contains("<pad>"), e.getMessage());
    }

    static int[] bytesOf(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }
}
