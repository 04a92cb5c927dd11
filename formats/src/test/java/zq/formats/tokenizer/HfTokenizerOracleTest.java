package zq.formats.tokenizer;

import zq.formats.text.MixedText;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * Checks {@link HfTokenizer} against the Hugging Face tokenizers Rust library itself (through DJL's
 * JNI binding, a test-only dependency) on several tokenizer.json configurations with trained merges
 * and on random text made of the characters where tokenizers disagree most often.
 */
class HfTokenizerOracleTest {
    static BpeTraining.Vocabulary trained;
    @TempDir static Path dir;

    @BeforeAll
    static void train() {
        trained = BpeTraining.train(MixedText.generate(21, 20_000),
                Pattern.compile(TokenizerJsonBuilder.QWEN2_REGEX, Pattern.UNICODE_CHARACTER_CLASS), 200);
    }

    static final String[] ALPHABET = {
            "a", "Z", "the", " model", "é", "e\u0301", "中", "文", "模型", " ", "  ", "   ", "\n", "\n\n", "\r\n", "\t",
            "1", "23", "4567", "'s", "'S", "'ll", "😀", "👍🏽", "\u00a0", "\u2003", "\u3000", "\u200b", "_", "-", "...",
            "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<mask>", "cat", "ﬁ", "Ⅻ", "٣", "\u0085", "½", "ǅ", "İ", "ß",
            "{", "}", "()", "==", " //", "$", "°C"};

    static List<String> texts() {
        List<String> texts = new ArrayList<>(Arrays.asList(MixedText.generate(22, 6_000).split("\n")));
        texts.add("");
        Random rnd = new Random(5);
        for (int i = 0; i < 300; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(12);
            for (int k = 0; k < n; k++) sb.append(ALPHABET[rnd.nextInt(ALPHABET.length)]);
            texts.add(sb.toString());
        }
        return texts;
    }

    static TokenizerJsonBuilder qwen2Like() {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().trained(trained);
        b.set("normalizer", TokenizerJsonBuilder.type("NFC"));
        b.special("<|endoftext|>").special("<|im_start|>").special("<|im_end|>");
        return b;
    }

    static TokenizerJsonBuilder llama3Like() {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().pairMerges().trained(trained).modelFlag("ignore_merges", true);
        // whole words in the vocabulary that the merges would build differently (or not at all)
        for (String w : new String[] {" quantization", "模型量化", " tokenizer", "2024", "中文"}) {
            String s = ByteLevelAlphabet.encode(w);
            if (!b.vocab.has(s)) b.token(s);
        }
        b.set("pre_tokenizer", TokenizerJsonBuilder.sequence(
                TokenizerJsonBuilder.split(TokenizerJsonBuilder.LLAMA3_REGEX, "Isolated", false),
                TokenizerJsonBuilder.byteLevel(false, false)));
        b.special("<|begin_of_text|>").special("<|eot_id|>");
        b.set("post_processor", b.bosTemplate("<|begin_of_text|>"));
        return b;
    }

    static TokenizerJsonBuilder gpt2Like() {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().trained(trained);
        b.set("pre_tokenizer", TokenizerJsonBuilder.byteLevel(true, true));
        b.set("normalizer", TokenizerJsonBuilder.normalizers("NFKC"));
        b.special("<|endoftext|>");
        b.added("<mask>", true, false, true, true, false);
        b.added("cat", false, true, false, false, true);
        b.added("模型", false, true, false, false, false);
        return b;
    }

    static TokenizerJsonBuilder splitBehaviors(String behavior, boolean invert) {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().trained(trained);
        b.set("pre_tokenizer", TokenizerJsonBuilder.sequence(
                TokenizerJsonBuilder.split("\\s+|\\p{N}", behavior, invert),
                TokenizerJsonBuilder.byteLevel(false, true)));
        b.special("<|im_start|>");
        return b;
    }

    /** Replace steps in the normalizer (regex and literal) and after the ByteLevel decoder. */
    static TokenizerJsonBuilder withReplaces() {
        TokenizerJsonBuilder b = qwen2Like();
        var normalizers = TokenizerJsonBuilder.F.arrayNode();
        normalizers.add(TokenizerJsonBuilder.type("Replace").put("content", "_").set("pattern", TokenizerJsonBuilder.F.objectNode().put("Regex", " {2,}")));
        normalizers.add(TokenizerJsonBuilder.type("Replace").put("content", "e").set("pattern", TokenizerJsonBuilder.F.objectNode().put("String", "é")));
        b.set("normalizer", TokenizerJsonBuilder.type("Sequence").set("normalizers", normalizers));
        var decoders = TokenizerJsonBuilder.F.arrayNode();
        decoders.add(TokenizerJsonBuilder.byteLevel(true, true));
        decoders.add(TokenizerJsonBuilder.type("Replace").put("content", "  ").set("pattern", TokenizerJsonBuilder.F.objectNode().put("String", "_")));
        b.set("decoder", TokenizerJsonBuilder.type("Sequence").set("decoders", decoders));
        return b;
    }

    void compare(String name, TokenizerJsonBuilder b, boolean addSpecialTokens) throws IOException {
        Path file = b.write(dir.resolve(name + "/tokenizer.json"));
        HfTokenizer mine = HfTokenizer.load(file);
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                .optAddSpecialTokens(addSpecialTokens).optTruncation(false).optPadding(false).build()) {
            for (String text : texts()) {
                long[] expected = ref.encode(text).getIds();
                int[] ids = mine.encode(text);
                if (addSpecialTokens) {
                    int[] p = mine.prefixIds();
                    int[] withPrefix = Arrays.copyOf(p, p.length + ids.length);
                    System.arraycopy(ids, 0, withPrefix, p.length, ids.length);
                    ids = withPrefix;
                }
                assertEquals(Arrays.toString(expected), Arrays.toString(ids), name + ": ids of '" + text + "'");
                assertEquals(ref.decode(expected, false), mine.decode(ids, false), name + ": decode of '" + text + "'");
                assertEquals(ref.decode(expected, true), mine.decode(ids, true), name + ": decode skipping specials of '" + text + "'");
            }
        }
    }

    @Test
    void replaceInNormalizerAndDecoder() throws IOException { compare("replaces", withReplaces(), false); }

    @Test
    void qwen2Style() throws IOException { compare("qwen2", qwen2Like(), false); }

    @Test
    void llama3StyleWithIgnoreMergesAndBos() throws IOException { compare("llama3", llama3Like(), true); }

    @Test
    void gpt2StyleWithPrefixSpaceAndAddedTokenOptions() throws IOException { compare("gpt2", gpt2Like(), false); }

    @Test
    void splitDelimiterBehaviors() throws IOException {
        for (String behavior : new String[] {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"}) {
            compare("split-" + behavior, splitBehaviors(behavior, false), false);
            compare("split-inverted-" + behavior, splitBehaviors(behavior, true), false);
        }
    }
}
