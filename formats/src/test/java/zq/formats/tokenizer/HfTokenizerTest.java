package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.CheckpointException;

/**
 * Hand-worked encodings with a tiny byte-level tokenizer.json: ids 0..255 are the bytes ('h' = 104,
 * 'Ġ' (space) = 32), then the merges below in order, one token "Ġhello" that no merge builds, and
 * the added tokens.
 */
class HfTokenizerTest {
    static final int HE = 256, LL = 257, HELL = 258, HELLO = 259, G_W = 260, OR = 261, G_WOR = 262, LD = 263,
            G_WORLD = 264, G_HELLO = 265, E_ACUTE = 266, IM_START = 267, IM_END = 268, CAFE = 269, MASK = 270,
            CAT = 271, BOS = 272;

    @TempDir Path dir;

    static TokenizerJsonBuilder builder() {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder()
                .mergeText("h", "e").mergeText("l", "l").mergeText("he", "ll").mergeText("hell", "o")
                .mergeText(" ", "w").mergeText("o", "r").mergeText(" w", "or").mergeText("l", "d").mergeText(" wor", "ld")
                .token(ByteLevelAlphabet.encode(" hello"))
                .merge(String.valueOf(ByteLevelAlphabet.charOf(0xC3)), String.valueOf(ByteLevelAlphabet.charOf(0xA9)));
        b.special("<|im_start|>").special("<|im_end|>")
                .added("café", false, true, false, false, false)
                .added("<mask>", true, false, true, false, false)
                .added("cat", false, false, false, false, true)
                .special("<|bos|>");
        return b;
    }

    HfTokenizer load(TokenizerJsonBuilder b) throws IOException {
        return HfTokenizer.load(b.write(dir.resolve("m" + System.nanoTime() + "/tokenizer.json")));
    }

    @Test
    void idsOfTheBuilderAreAsDocumented() throws IOException {
        HfTokenizer t = load(builder());
        assertEquals(" world", new String(t.tokenBytes(G_WORLD), StandardCharsets.UTF_8));
        assertEquals(" hello", new String(t.tokenBytes(G_HELLO), StandardCharsets.UTF_8));
        assertEquals("é", new String(t.tokenBytes(E_ACUTE), StandardCharsets.UTF_8));
        assertEquals(BOS, t.specialId("<|bos|>").getAsInt());
        assertEquals(273, t.vocabSize());
    }

    @Test
    void mergesApplyInMergeListOrder() throws IOException {
        HfTokenizer t = load(builder());
        assertArrayEquals(new int[] {HELLO, G_WORLD}, t.encode("hello world"));
        // w o r: only "o r" merges
        assertArrayEquals(new int[] {'w', OR}, t.encode("wor"));
        // h o l d: only "l d"
        assertArrayEquals(new int[] {'h', 'o', LD}, t.encode("hold"));
        // Ġ h e l l o: he, ll, hell, hello; "Ġhello" is in the vocab but no merge builds it
        assertArrayEquals(new int[] {' ', HELLO}, t.encode(" hello"));
    }

    @Test
    void pairMergesReadLikeStringMerges() throws IOException {
        HfTokenizer t = load(new TokenizerJsonBuilder().pairMerges().mergeText("h", "e").mergeText("l", "l")
                .mergeText("he", "ll").mergeText("hell", "o"));
        assertArrayEquals(new int[] {259}, t.encode("hello"));
    }

    @Test
    void ignoreMergesLooksUpTheWholePreToken() throws IOException {
        HfTokenizer t = load(builder().modelFlag("ignore_merges", true));
        assertArrayEquals(new int[] {G_HELLO}, t.encode(" hello"));
        assertArrayEquals(new int[] {HELLO, G_WORLD}, t.encode("hello world"));
    }

    @Test
    void nfcNormalizerComposesBeforeEncoding() throws IOException {
        HfTokenizer plain = load(builder());
        // e + U+0301 (UTF-8 CC 81): regex pieces "e" and the combining mark
        assertArrayEquals(new int[] {'e', 0xCC, 0x81}, plain.encode("e\u0301"));
        HfTokenizer nfc = load(builder().set("normalizer", TokenizerJsonBuilder.type("NFC")));
        assertArrayEquals(new int[] {E_ACUTE}, nfc.encode("e\u0301"));
        HfTokenizer seq = load(builder().set("normalizer", TokenizerJsonBuilder.normalizers("NFD", "NFC")));
        assertArrayEquals(new int[] {E_ACUTE}, seq.encode("é"));
    }

    @Test
    void addedTokens() throws IOException {
        HfTokenizer t = load(builder());
        assertArrayEquals(new int[] {IM_START, HELLO, IM_END}, t.encode("<|im_start|>hello<|im_end|>"));
        // lstrip: the space before <mask> belongs to the token
        assertArrayEquals(new int[] {'a', MASK, 'b'}, t.encode("a <mask>b"));
        // single_word: "cat" alone matches, inside "scat" it does not
        assertArrayEquals(new int[] {CAT, ' ', 's', 'c', 'a', 't'}, t.encode("cat scat"));
        // normalized=true tokens are matched after normalization (none here, so the decomposed form is plain text)
        assertArrayEquals(new int[] {'c', 'a', 'f', 'e', 0xCC, 0x81}, t.encode("cafe\u0301"));
        HfTokenizer nfc = load(builder().set("normalizer", TokenizerJsonBuilder.type("NFC")));
        assertArrayEquals(new int[] {CAFE}, nfc.encode("cafe\u0301"));
        assertTrue(t.isSpecial(IM_START));
        assertTrue(!t.isSpecial(CAT));
        assertEquals(List.of("<|im_start|>", "<|im_end|>", "<mask>", "<|bos|>"), List.copyOf(t.specialTokens().keySet()));
    }

    @Test
    void decode() throws IOException {
        HfTokenizer t = load(builder());
        int[] ids = {IM_START, HELLO, G_WORLD, IM_END, CAT};
        assertEquals("<|im_start|>hello world<|im_end|>cat", t.decode(ids));
        assertEquals("hello worldcat", t.decode(ids, true));
        assertEquals("\uFFFDa", t.decode(new int[] {0xC3, 'a'}));
        assertEquals("Ġworld", t.piece(G_WORLD));
        assertEquals("<|im_start|>", t.piece(IM_START));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {273}));
    }

    @Test
    void templateProcessingGivesThePrefix() throws IOException {
        TokenizerJsonBuilder b = builder();
        b.set("post_processor", b.bosTemplate("<|bos|>"));
        HfTokenizer t = load(b);
        assertArrayEquals(new int[] {BOS}, t.prefixIds());
        assertArrayEquals(new int[0], t.suffixIds());
        assertArrayEquals(new int[0], load(builder()).prefixIds());
    }

    @Test
    void byteLevelWithPrefixSpaceAndGpt2Regex() throws IOException {
        HfTokenizer t = load(builder().set("pre_tokenizer", TokenizerJsonBuilder.byteLevel(true, true)));
        // "hello" gets a prefix space: Ġ + hello; GPT-2 regex keeps " world" together
        assertArrayEquals(new int[] {' ', HELLO, G_WORLD}, t.encode("hello world"));
    }

    /** Cases from the Hugging Face tokenizers docs and tests of SplitDelimiterBehavior. */
    @Test
    void splitBehaviors() {
        assertEquals(List.of("the", "final", "countdown"), split("-", "Removed", false, "the-final--countdown"));
        assertEquals(List.of("the", "-", "final", "-", "-", "countdown"), split("-", "Isolated", false, "the-final--countdown"));
        assertEquals(List.of("the-", "final-", "-", "countdown"), split("-", "MergedWithPrevious", false, "the-final--countdown"));
        assertEquals(List.of("the", "-final", "-", "-countdown"), split("-", "MergedWithNext", false, "the-final--countdown"));
        String s = "How are you doing?";
        String words = "\\w+|[^\\w\\s]+";
        assertEquals(List.of("How", "are", "you", "doing", "?"), split(words, "Removed", true, s));
        assertEquals(List.of("How", " ", "are", " ", "you", " ", "doing", "?"), split(words, "Isolated", true, s));
        assertEquals(List.of("How ", "are ", "you ", "doing", "?"), split(words, "MergedWithPrevious", true, s));
        assertEquals(List.of("How", " are", " you", " doing", "?"), split(words, "MergedWithNext", true, s));
        assertEquals(List.of("How", " ", "are", " ", "you", " ", "doing?"), split(words, "Contiguous", true, s));
    }

    static List<String> split(String regex, String behavior, boolean invert, String text) {
        List<String> out = new ArrayList<>();
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex, java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
        new HfPreTokenizer.Split(PieceSplitter.of(regex, p), behavior, invert).split(text, 0, text.length(), (t, a, b) -> out.add(t.substring(a, b)));
        return out;
    }

    @Test
    void unsupportedOrBrokenFilesAreRejectedWithTheReason() throws IOException {
        assertRejected(b -> b.model.put("type", "WordPiece"), "model type 'WordPiece'");
        assertRejected(b -> b.set("decoder", TokenizerJsonBuilder.type("Metaspace")), "decoder 'Metaspace'");
        assertRejected(b -> b.set("pre_tokenizer", TokenizerJsonBuilder.sequence(TokenizerJsonBuilder.type("Whitespace"),
                TokenizerJsonBuilder.byteLevel(false, false))), "pre-tokenizer type 'Whitespace'");
        assertRejected(b -> b.set("normalizer", TokenizerJsonBuilder.type("Lowercase")), "normalizer type 'Lowercase'");
        assertRejected(b -> b.modelFlag("byte_fallback", true), "byte_fallback");
        assertRejected(b -> b.merges.add("q zz"), "merge #10 needs 'zz'");
        assertRejected(b -> b.merges.add("a b c"), "merge #10 'a b c'");
        assertRejected(b -> b.vocab.remove(String.valueOf(ByteLevelAlphabet.charOf(0x00))), "byte 0x00");
        assertRejected(b -> b.set("pre_tokenizer", TokenizerJsonBuilder.split("\\s+", "Isolated", false)), "must end with ByteLevel");
        assertRejected(b -> b.set("pre_tokenizer", TokenizerJsonBuilder.sequence(TokenizerJsonBuilder.byteLevel(false, false),
                TokenizerJsonBuilder.split("\\s+", "Isolated", false))), "must end with ByteLevel");
        assertRejected(b -> b.vocab.put("Ġhello", 3), "vocab id 3");
        assertRejected(b -> b.set("pre_tokenizer", TokenizerJsonBuilder.sequence(TokenizerJsonBuilder.split("(?<bad", "Isolated", false),
                TokenizerJsonBuilder.byteLevel(false, false))), "regex cannot be compiled");
        assertRejected(b -> b.set("post_processor", TokenizerJsonBuilder.type("BertProcessing")), "post_processor 'BertProcessing'");
        assertRejected(b -> ((com.fasterxml.jackson.databind.node.ObjectNode) b.added.get(0)).put("id", 5), "vocab gives to");
    }

    private void assertRejected(Consumer<TokenizerJsonBuilder> change, String fragment) throws IOException {
        TokenizerJsonBuilder b = builder();
        change.accept(b);
        Path f = b.write(dir.resolve("bad" + System.nanoTime() + "/tokenizer.json"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(fragment), e.getMessage());
    }
}
