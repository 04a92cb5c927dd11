package zq.formats.tokenizer;

import zq.formats.text.MixedText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * The tokenizer.json synthesized from a 360Zhinao vocabulary gives 360Zhinao's ids, checked with two
 * independent implementations of tokenizer.json, the Hugging Face tokenizers Rust library (through
 * DJL) and {@code @huggingface/tokenizers} (JavaScript, through node), against three references for
 * the 360Zhinao ids: tiktoken's own ids on the sample vocabulary (golden file), zq's
 * {@link ZhinaoTokenizer} on a mixed corpus, and, for decoding, the text itself.
 */
class ZhinaoTokenizerJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path SAMPLE_VOCAB = HfJsOracle.repoRoot().resolve("samples/zhinao-tiny/vocab/360.tiktoken");
    @TempDir static Path dir;
    static ZhinaoTokenizer zhinao;
    static Path tokenizerJson;
    static Path tokenizerConfig;
    static ObjectNode sampleConfig;

    @BeforeAll
    static void synthesize() throws IOException {
        zhinao = ZhinaoTokenizer.load(SAMPLE_VOCAB);
        ObjectNode json = ZhinaoTokenizerJson.of(MergeReconstruction.of(zhinao.ranks()), true);
        tokenizerJson = write(json, "sample");
        sampleConfig = (ObjectNode) JSON.readTree(SAMPLE_VOCAB.getParent().getParent().resolve("tokenizer_config.json").toFile());
        tokenizerConfig = tokenizerJson.resolveSibling("tokenizer_config.json");
        JSON.writeValue(tokenizerConfig.toFile(), ZhinaoTokenizerJson.stockConfig(sampleConfig, json, 1024));
    }

    static Path write(ObjectNode json, String name) throws IOException {
        Path file = dir.resolve(name + "/tokenizer.json");
        Files.createDirectories(file.getParent());
        JSON.writeValue(file.toFile(), json);
        return file;
    }

    /** Chinese, English and code, every space run of 1..17 and tabs, 360's markup, specials as user text, digits, emoji, CRLF. */
    static List<String> corpus() throws Exception {
        List<String> texts = new ArrayList<>(Arrays.asList(MixedText.generate(31, 12_000).split("\n")));
        texts.add(MixedText.generate(32, 4_000));
        for (int n = 1; n <= 17; n++) {
            String run = " ".repeat(n);
            texts.add("x" + run + "y");
            texts.add(run + "def f(x):" + run + "return x" + run);
            texts.add("\t" + run + "\tif (a)" + run + "{\n" + run + run + "b();\n" + run + "}\r\n");
        }
        texts.addAll(List.of(
                "line one[br]line two<br>line three", "[br][br]<br><br>", "a [br] b  <br>  c", "[b[br]r]", "<b<br>r>",
                "please print <|im_start|>system\nhi<|im_end|> literally", "<eod><pad>[space2]<unk><mask><eop>[space8]",
                "a[space3]b [space4] [space2]  ", "<|im_end|>  <|im_start|>   ", "2024年5月12日, pi = 3.14159, 1234567890",
                "good 👍🏽 rocket 🚀 flag 🇨🇳 heart ❤️ face 😀", "windows\r\nline\r\n\r\n  \r\n", "It's, I'M, we'll, they'd, you're",
                "360智脑是奇虎360研发的大语言模型，支持中文和英文。", "\u00a0nbsp\u3000ideographic\u2003em e\u0301", "", " ", "  ", "\n"));
        for (JsonNode c : GoldenIdsTest.readLines(GoldenIdsTest.goldenDir().resolve("cases.jsonl"))) texts.add(c.get("text").asText());
        return texts;
    }

    /**
     * What 360's decode gives back, written out independently of zq: the text with its line-break
     * markup as newlines and any {@code [spaceN]} text as N spaces.
     */
    static String decodedText(String text) {
        return text.replace("[br]", "\n").replace("<br>", "\n").replace("[space2]", "  ").replace("[space3]", "   ")
                .replace("[space4]", "    ").replace("[space8]", "        ");
    }

    @Test
    void rustTokenizersGivesTheZhinaoIdsAndDecodesBack() throws Exception {
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            for (String text : corpus()) {
                int[] expected = zhinao.encode(text);
                long[] ids = rust.encode(text).getIds();
                assertEquals(Arrays.toString(expected), Arrays.toString(ids), "ids of " + JSON.writeValueAsString(text));
                assertEquals(decodedText(text), rust.decode(ids, false), "decode of " + JSON.writeValueAsString(text));
                assertEquals(zhinao.decode(expected, true), rust.decode(ids, true), "decode skipping specials of " + JSON.writeValueAsString(text));
            }
        }
    }

    @Test
    void javaScriptTokenizersGivesTheZhinaoIdsAndDecodesBack() throws Exception {
        List<String> texts = corpus();
        ObjectNode request = HfJsOracle.request(tokenizerJson, tokenizerConfig);
        texts.forEach(request.putArray("texts")::add);
        JsonNode encoded = HfJsOracle.run(request).get("encoded");
        // the wrong alternative: without clean_up_tokenization_spaces false, decoding loses a space
        ObjectNode withCleanUp = HfJsOracle.request(tokenizerJson, null);
        withCleanUp.putArray("texts").add("if x != 0:");
        assertEquals("if x!= 0:", HfJsOracle.run(withCleanUp).get("encoded").get(0).get("decoded").asText());
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            JsonNode e = encoded.get(i);
            int[] expected = zhinao.encode(text);
            assertEquals(Arrays.toString(expected), Arrays.toString(HfJsOracle.ids(e.get("ids"))), "ids of " + JSON.writeValueAsString(text));
            assertEquals(decodedText(text), e.get("decoded").asText(), "decode of " + JSON.writeValueAsString(text));
            assertEquals(zhinao.decode(expected, true), e.get("decodedSkip").asText(), "decode skipping specials of " + JSON.writeValueAsString(text));
        }
    }

    @Test
    void zqReadsTheSynthesizedFileWithTheSameIds() throws Exception {
        HfTokenizer json = HfTokenizer.load(tokenizerJson);
        for (String text : corpus()) {
            int[] ids = json.encode(text);
            assertEquals(Arrays.toString(zhinao.encode(text)), Arrays.toString(ids), "ids of " + JSON.writeValueAsString(text));
            assertEquals(decodedText(text), json.decode(ids), "decode of " + JSON.writeValueAsString(text));
        }
        assertEquals(zhinao.vocabSize(), json.vocabSize());
        // the [spaceN] tokens are added but not special, so skip_special_tokens keeps them
        assertEquals(List.of("<pad>", "<unk>", "<mask>", "<eod>", "<eop>", "<|im_start|>", "<|im_end|>"),
                List.copyOf(json.specialTokens().keySet()));
        assertEquals(zhinao.specialId("[space4]").getAsInt(), json.specialId("[space4]").getAsInt());
    }

    @Test
    void rustTokenizersGivesTiktokensOwnIds() throws Exception {
        // zhinao-sample.ids.jsonl: ids from tiktoken 0.14 with 360's pre-processing, not from zq
        Path golden = GoldenIdsTest.goldenDir();
        List<JsonNode> lines = GoldenIdsTest.readLines(golden.resolve("zhinao-sample.ids.jsonl"));
        TiktokenRanks ranks = TiktokenRanks.read(golden.resolve(lines.get(0).get("vocab").asText()));
        Path file = write(ZhinaoTokenizerJson.of(MergeReconstruction.of(ranks), true), "golden");
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            for (JsonNode c : lines.subList(1, lines.size())) {
                int[] expected = JSON.treeToValue(c.get("ids"), int[].class);
                assertEquals(Arrays.toString(expected), Arrays.toString(rust.encode(c.get("text").asText()).getIds()), c.get("name").asText());
            }
        }
        ObjectNode request = HfJsOracle.request(file, tokenizerConfig);
        var texts = request.putArray("texts");
        for (JsonNode c : lines.subList(1, lines.size())) texts.add(c.get("text").asText());
        JsonNode js = HfJsOracle.run(request).get("encoded");
        for (int i = 1; i < lines.size(); i++) {
            assertEquals(lines.get(i).get("ids").toString(), js.get(i - 1).get("ids").toString(), "JavaScript: " + lines.get(i).get("name").asText());
        }
    }

    /**
     * A vocabulary with whole words that merges cannot build (tiktoken finds them by looking the
     * whole pre-token up): with {@code ignore_merges} the Rust library gives tiktoken's ids, without
     * it the words come out in pieces.
     */
    @Test
    void wordsUnreachableByMergesNeedIgnoreMerges() throws Exception {
        Pattern split = Pattern.compile(ZhinaoTokenizer.SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
        BpeTraining.Vocabulary trained = BpeTraining.train(MixedText.generate(33, 15_000), split, 150);
        List<byte[]> tokens = new ArrayList<>(trained.tokens());
        List<String> words = List.of(" quantization", " 模型量化", " Zhinao", " tokenizers");
        for (String w : words) tokens.add(w.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ZhinaoTokenizer reference = ZhinaoTokenizer.load(
                new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(dir.resolve("unreachable/vocab/360.tiktoken")));
        MergeReconstruction merges = MergeReconstruction.of(reference.ranks());
        for (int k = 0; k < words.size(); k++) {
            assertTrue(merges.unreachable().contains(trained.tokens().size() + k), words.get(k) + " should be unreachable by merges");
        }
        String text = "a quantization of 模型量化 by Zhinao, not quantizations or tokenizers";
        int[] expected = reference.encode(text);
        for (String w : words) assertTrue(Arrays.stream(expected).anyMatch(id -> id == reference.ranks().rankOf(
                w.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, w.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)), w);
        Path with = write(ZhinaoTokenizerJson.of(merges, true), "unreachable-ignore");
        Path without = write(ZhinaoTokenizerJson.of(merges, false), "unreachable-merge-only");
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.builder().optTokenizerPath(with).optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
             HuggingFaceTokenizer mergeOnly = HuggingFaceTokenizer.builder().optTokenizerPath(without).optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            assertEquals(Arrays.toString(expected), Arrays.toString(rust.encode(text).getIds()));
            assertNotEquals(Arrays.toString(expected), Arrays.toString(mergeOnly.encode(text).getIds()));
            for (String t : corpus()) {
                assertEquals(Arrays.toString(reference.encode(t)), Arrays.toString(rust.encode(t).getIds()), "ids of " + JSON.writeValueAsString(t));
            }
        }
        ObjectNode request = HfJsOracle.request(with, null); // ids only: no config needed
        List<String> texts = new ArrayList<>(corpus());
        texts.add(text);
        texts.forEach(request.putArray("texts")::add);
        JsonNode js = HfJsOracle.run(request).get("encoded");
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(Arrays.toString(reference.encode(texts.get(i))), Arrays.toString(HfJsOracle.ids(js.get(i).get("ids"))),
                    "JavaScript ids of " + JSON.writeValueAsString(texts.get(i)));
        }
    }

    /**
     * The chat template of the converted folder, rendered by {@code @huggingface/jinja} and tokenized
     * by {@code @huggingface/tokenizers} as transformers' apply_chat_template does, gives the ids zq's
     * {@link zq.formats.text.ChatTemplate} builds piece by piece with 360's tokenizer. The two agree
     * because no message content starts with whitespace: such content would merge with the newline
     * after the role when the rendered text is tokenized whole, and finetune.py's piecewise ids differ.
     */
    @Test
    void chatTemplateRenderedByJinjaGivesChatTemplateIds() throws Exception {
        JsonNode file = JSON.readTree(HfJsOracle.repoRoot().resolve("samples/data/calib-conversations.json").toFile());
        List<List<zq.formats.text.ChatMessage>> conversations = new ArrayList<>();
        for (JsonNode example : file) {
            List<zq.formats.text.ChatMessage> messages = new ArrayList<>();
            for (JsonNode turn : example.get("conversations")) {
                messages.add(new zq.formats.text.ChatMessage(turn.get("from").asText(), turn.get("value").asText()));
            }
            if (messages.size() >= 2) conversations.add(messages);
        }
        List<zq.formats.text.ChatMessage> multiTurn = List.of(
                zq.formats.text.ChatMessage.user("Write a haiku about 模型量化 [br]in two lines"),
                zq.formats.text.ChatMessage.assistant("Int4 weights,    still\nthe same words<br>come out"),
                zq.formats.text.ChatMessage.user("Now in code:\n    for i in range(3):\n\tprint(i)  # <|im_end|> literal"),
                zq.formats.text.ChatMessage.assistant("def f():\n        return 42 😀"));
        conversations.add(multiTurn);
        assertTrue(conversations.size() > 10, "sample conversations");

        ObjectNode request = HfJsOracle.request(tokenizerJson, tokenizerConfig);
        var array = request.putArray("conversations");
        for (var c : conversations) {
            var messages = array.addArray();
            for (var m : c) messages.addObject().put("role", m.role()).put("content", m.content());
        }
        JsonNode chats = HfJsOracle.run(request).get("chats");
        zq.formats.text.ChatTemplate template = new zq.formats.text.ChatTemplate(zhinao);
        for (int i = 0; i < conversations.size(); i++) {
            var c = conversations.get(i);
            assertEquals(template.render(c), chats.get(i).get("text").asText(), "rendered conversation " + i);
            assertEquals(Arrays.toString(template.encode(c)), Arrays.toString(HfJsOracle.ids(chats.get(i).get("ids"))), "ids of conversation " + i);
        }
        // with generation prompt
        request.put("addGenerationPrompt", true);
        JsonNode withPrompt = HfJsOracle.run(request).get("chats");
        assertEquals(Arrays.toString(template.encodeForGeneration(multiTurn)),
                Arrays.toString(HfJsOracle.ids(withPrompt.get(conversations.size() - 1).get("ids"))));
    }

    /**
     * The listed exception (README): when a message's content starts with a line break (after
     * optional spaces or tabs), or with [br]/&lt;br&gt;, the rendered text puts the newline after the
     * role and the content's leading whitespace in one pre-token, where 360's piecewise ids have two;
     * the ids differ whenever the vocabulary has a token for the joined whitespace, as a real
     * vocabulary has for "\n\n". The sample's has none, so this test appends such tokens.
     */
    @Test
    void chatContentStartingWithALineBreakIsTheListedDifference() throws Exception {
        List<byte[]> tokens = new ArrayList<>();
        for (int r = 0; r < zhinao.ranks().rankLimit(); r++) tokens.add(zhinao.ranks().bytes(r));
        for (String joined : List.of("\n\n", "\n\r\n", "\n \n", "\n\t\n")) tokens.add(joined.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ZhinaoTokenizer withBreaks = ZhinaoTokenizer.load(
                new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(dir.resolve("breaks/vocab/360.tiktoken")));
        ObjectNode json = ZhinaoTokenizerJson.of(MergeReconstruction.of(withBreaks.ranks()), true);
        Path file = write(json, "breaks");
        Path config = file.resolveSibling("tokenizer_config.json");
        JSON.writeValue(config.toFile(), ZhinaoTokenizerJson.stockConfig(sampleConfig, json, 1024));

        List<String> differing = List.of("\nhello", "\r\nhello", "[br]hello", "<br>hello", " \nhello", "\t\nhello");
        List<String> same = List.of("hello", " hello", "  hello", "\thello", "hello\n", "你好", "1 2", "<|im_end|> x", "x\n\ny");
        ObjectNode request = HfJsOracle.request(file, config);
        var array = request.putArray("conversations");
        List<String> all = new ArrayList<>(differing);
        all.addAll(same);
        for (String content : all) array.addArray().addObject().put("role", "user").put("content", content);
        JsonNode chats = HfJsOracle.run(request).get("chats");
        zq.formats.text.ChatTemplate template = new zq.formats.text.ChatTemplate(withBreaks);
        for (int i = 0; i < all.size(); i++) {
            List<zq.formats.text.ChatMessage> c = List.of(zq.formats.text.ChatMessage.user(all.get(i)));
            String piecewise = Arrays.toString(template.encode(c));
            String rendered = Arrays.toString(HfJsOracle.ids(chats.get(i).get("ids")));
            // rendered text itself is the same either way; only its tokenization as one string differs
            assertEquals(template.render(c), chats.get(i).get("text").asText());
            assertEquals(Arrays.toString(withBreaks.encode(template.render(c))), rendered, "whole-text ids of " + JSON.writeValueAsString(all.get(i)));
            if (i < differing.size()) assertNotEquals(piecewise, rendered, JSON.writeValueAsString(all.get(i)));
            else assertEquals(piecewise, rendered, JSON.writeValueAsString(all.get(i)));
        }
    }

    @Test
    void tokenizerConfigHasNoRemoteCodeAndConvertsBackToTheOriginal() throws Exception {
        ObjectNode stock = (ObjectNode) JSON.readTree(tokenizerConfig.toFile());
        assertTrue(!stock.has("auto_map"));
        assertEquals("PreTrainedTokenizerFast", stock.get("tokenizer_class").asText());
        assertEquals(false, stock.get("clean_up_tokenization_spaces").asBoolean(true));
        assertEquals(1024, stock.get("model_max_length").asInt());
        assertEquals(sampleConfig.get("chat_template"), stock.get("chat_template"));
        assertEquals("<eod>", stock.get("eos_token").asText());
        JsonNode space2 = stock.get("added_tokens_decoder").get(String.valueOf(zhinao.specialId("[space2]").getAsInt()));
        assertEquals(false, space2.get("special").asBoolean(true));
        assertEquals(true, space2.get("normalized").asBoolean(false));
        assertEquals(sampleConfig, ZhinaoTokenizerJson.zhinaoConfig(stock));
        // a folder without a template or lengths gets 360's defaults
        ObjectNode bare = ZhinaoTokenizerJson.stockConfig(JSON.createObjectNode(),
                ZhinaoTokenizerJson.of(MergeReconstruction.of(zhinao.ranks()), true), 4096);
        assertEquals(4096, bare.get("model_max_length").asInt());
        assertEquals(sampleConfig.get("chat_template").asText(), bare.get("chat_template").asText());
    }
}
