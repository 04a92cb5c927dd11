package zq.formats.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Test-only writer of tokenizer.json files in the layout Hugging Face tokenizers saves: a byte-level
 * vocabulary whose ids 0..255 are the single bytes (id = byte value), then merged tokens in merge order.
 */
final class TokenizerJsonBuilder {
    static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final String QWEN2_REGEX = ZhinaoTokenizer.SPLIT_REGEX;
    static final String LLAMA3_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    final ObjectNode root = F.objectNode();
    final ObjectNode vocab = F.objectNode();
    final ArrayNode merges = F.arrayNode();
    final ArrayNode added = F.arrayNode();
    final ObjectNode model = F.objectNode();
    private boolean pairMerges;

    TokenizerJsonBuilder() {
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), b);
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", added);
        root.putNull("normalizer");
        root.set("pre_tokenizer", sequence(split(QWEN2_REGEX, "Isolated", false), byteLevel(false, false)));
        root.set("post_processor", byteLevel(false, false));
        root.set("decoder", byteLevel(true, true));
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", merges);
        root.set("model", model);
    }

    /** Merges are written as ["a", "b"] pairs (newer files) instead of "a b" strings. */
    TokenizerJsonBuilder pairMerges() {
        pairMerges = true;
        return this;
    }

    /** Adds the merge of two vocabulary strings and, if new, the merged token with the next id. */
    TokenizerJsonBuilder merge(String left, String right) {
        if (pairMerges) merges.add(F.arrayNode().add(left).add(right));
        else merges.add(left + " " + right);
        if (!vocab.has(left + right)) vocab.put(left + right, vocab.size());
        return this;
    }

    /** Adds the merge of two pieces of text written in the byte-level alphabet. */
    TokenizerJsonBuilder mergeText(String left, String right) {
        return merge(ByteLevelAlphabet.encode(left), ByteLevelAlphabet.encode(right));
    }

    /** Adds a vocabulary string with the next id and no merge that builds it. */
    TokenizerJsonBuilder token(String byteLevelString) {
        vocab.put(byteLevelString, vocab.size());
        return this;
    }

    int nextId() {
        int max = vocab.size() - 1;
        for (var t : added) max = Math.max(max, t.get("id").asInt());
        return max + 1;
    }

    TokenizerJsonBuilder added(String content, boolean special, boolean normalized, boolean lstrip, boolean rstrip, boolean singleWord) {
        ObjectNode t = F.objectNode();
        t.put("id", nextId());
        t.put("content", content);
        t.put("single_word", singleWord);
        t.put("lstrip", lstrip);
        t.put("rstrip", rstrip);
        t.put("normalized", normalized);
        t.put("special", special);
        added.add(t);
        return this;
    }

    TokenizerJsonBuilder special(String content) { return added(content, true, false, false, false, false); }

    /** Adds byte-level training results: every merge in order. */
    TokenizerJsonBuilder trained(BpeTraining.Vocabulary v) {
        for (int[] m : v.merges()) merge(ByteLevelAlphabet.encode(v.tokens().get(m[0])), ByteLevelAlphabet.encode(v.tokens().get(m[1])));
        return this;
    }

    TokenizerJsonBuilder set(String field, com.fasterxml.jackson.databind.JsonNode value) {
        root.set(field, value);
        return this;
    }

    TokenizerJsonBuilder modelFlag(String field, boolean value) {
        model.put(field, value);
        return this;
    }

    static ObjectNode type(String type) {
        ObjectNode n = F.objectNode();
        n.put("type", type);
        return n;
    }

    static ObjectNode split(String regex, String behavior, boolean invert) {
        ObjectNode n = type("Split");
        n.set("pattern", F.objectNode().put("Regex", regex));
        n.put("behavior", behavior);
        n.put("invert", invert);
        return n;
    }

    static ObjectNode byteLevel(boolean addPrefixSpace, boolean useRegex) {
        ObjectNode n = type("ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", false);
        n.put("use_regex", useRegex);
        return n;
    }

    static ObjectNode sequence(ObjectNode... steps) {
        ObjectNode n = type("Sequence");
        ArrayNode a = n.putArray("pretokenizers");
        for (ObjectNode s : steps) a.add(s);
        return n;
    }

    static ObjectNode normalizers(String... types) {
        ObjectNode n = type("Sequence");
        ArrayNode a = n.putArray("normalizers");
        for (String t : types) a.add(type(t));
        return n;
    }

    /** TemplateProcessing that puts {@code bos} (an added token) before a single sequence. */
    ObjectNode bosTemplate(String bos) {
        int id = -1;
        for (var t : added) if (t.get("content").asText().equals(bos)) id = t.get("id").asInt();
        ObjectNode n = type("TemplateProcessing");
        ArrayNode single = n.putArray("single");
        single.add(F.objectNode().set("SpecialToken", F.objectNode().put("id", bos).put("type_id", 0)));
        single.add(F.objectNode().set("Sequence", F.objectNode().put("id", "A").put("type_id", 0)));
        n.putArray("pair");
        ObjectNode specials = n.putObject("special_tokens");
        specials.set(bos, F.objectNode().put("id", bos).set("ids", F.arrayNode().add(id)));
        ((ObjectNode) specials.get(bos)).set("tokens", F.arrayNode().add(bos));
        return n;
    }

    Path write(Path file) throws IOException {
        java.nio.file.Files.createDirectories(file.getParent());
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        return file;
    }

    static List<String> list(String... s) { return List.of(s); }
}
