package zq.formats.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A Hugging Face {@code tokenizer.json} that gives {@link ZhinaoTokenizer}'s ids with stock
 * components only, so a 360Zhinao vocabulary loads without remote code ({@code docs/tokenizers.md}):
 * <ul>
 *   <li>model: byte-level BPE, vocabulary = the tiktoken ranks, merges from {@link MergeReconstruction},
 *       {@code ignore_merges} so a whole pre-token that is a token stays one token, as in tiktoken;</li>
 *   <li>normalizer: 360's pre-processing as string {@code Replace}s in its order ({@code [br]},
 *       {@code <br>} to a newline, then runs of 8, 4, 3, 2 spaces to {@code [spaceN]});</li>
 *   <li>added tokens: the eleven specials after the ranks; the seven control tokens special and
 *       matched in the raw text, the four {@code [spaceN]} not special (360 keeps them when skipping
 *       specials) and matched after normalization, where the Replaces create them;</li>
 *   <li>pre-tokenizer: Split with 360's (= Qwen2's) regex, then ByteLevel without its own regex;</li>
 *   <li>decoder: ByteLevel, then {@code [spaceN]} back to spaces.</li>
 * </ul>
 */
public final class ZhinaoTokenizerJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private ZhinaoTokenizerJson() {}

    /** The tokenizer.json for {@code ranks}; with {@code ignoreMerges} false only for tests that show why it is needed. */
    public static ObjectNode of(MergeReconstruction merges, boolean ignoreMerges) {
        TiktokenRanks ranks = merges.ranks();
        ObjectNode root = F.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < ZhinaoTokenizer.SPECIAL_TOKENS.size(); i++) {
            String content = ZhinaoTokenizer.SPECIAL_TOKENS.get(i);
            boolean space = ZhinaoTokenizer.isSpaceToken(content);
            ObjectNode t = added.addObject();
            t.put("id", ranks.count() + i);
            t.put("content", content);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", space);
            t.put("special", !space);
        }
        ObjectNode normalizer = type("Sequence");
        ArrayNode steps = normalizer.putArray("normalizers");
        for (String[] r : ZhinaoTokenizer.PREPROCESSING) steps.add(replace(r[0], r[1]));
        root.set("normalizer", normalizer);

        ObjectNode pre = type("Sequence");
        ArrayNode preSteps = pre.putArray("pretokenizers");
        ObjectNode split = preSteps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", ZhinaoTokenizer.SPLIT_REGEX);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        preSteps.add(byteLevel());
        root.set("pre_tokenizer", pre);
        root.putNull("post_processor");

        ObjectNode decoder = type("Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        decoders.add(byteLevel());
        for (String[] r : ZhinaoTokenizer.POSTPROCESSING) decoders.add(replace(r[0], r[1]));
        root.set("decoder", decoder);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", ignoreMerges);
        ObjectNode vocab = model.putObject("vocab");
        for (int r = 0; r < ranks.rankLimit(); r++) {
            if (ranks.contains(r)) vocab.put(merges.byteLevelToken(r), r);
        }
        ArrayNode mergeList = model.putArray("merges");
        for (MergeReconstruction.Merge m : merges.merges()) {
            mergeList.addArray().add(merges.byteLevelToken(m.left())).add(merges.byteLevelToken(m.right()));
        }
        return root;
    }

    /**
     * The tokenizer class a stock loader reads tokenizer.json with as it is. Not Qwen2Tokenizer:
     * transformers v5 builds that class's normalizer and pre-tokenizer itself, which would drop
     * the Replace steps.
     */
    public static final String STOCK_CLASS = "PreTrainedTokenizerFast";

    /** 360's class, loaded through {@code auto_map} with remote code. */
    public static final String ZHINAO_CLASS = "ZhinaoTokenizer";

    /**
     * tokenizer_config.json for the synthesized tokenizer.json: {@code zhinao}'s keys in their
     * order, without {@code auto_map}, with the stock class, every added token as tokenizer.json
     * has it, {@code clean_up_tokenization_spaces: false} (with true, decoding drops the space in
     * {@code "x != 0"}), and the special tokens, model_max_length and ChatML template 360 uses when
     * the original does not give them.
     */
    public static ObjectNode stockConfig(ObjectNode zhinao, ObjectNode tokenizerJson, int maxPositions) {
        ObjectNode out = F.objectNode();
        out.put("tokenizer_class", STOCK_CLASS);
        zhinao.properties().forEach(e -> {
            if (!e.getKey().equals("auto_map") && !e.getKey().equals("tokenizer_class")) out.set(e.getKey(), e.getValue().deepCopy());
        });
        if (!out.has("model_max_length")) out.put("model_max_length", maxPositions);
        out.put("clean_up_tokenization_spaces", false);
        if (!out.has("eos_token")) out.put("eos_token", "<eod>");
        if (!out.has("pad_token")) out.put("pad_token", "<pad>");
        if (!out.has("unk_token")) out.put("unk_token", "<unk>");
        ObjectNode decoder = F.objectNode();
        for (var t : tokenizerJson.path("added_tokens")) {
            ObjectNode entry = ((ObjectNode) t).deepCopy();
            entry.remove("id");
            decoder.set(t.get("id").asText(), entry);
        }
        out.set("added_tokens_decoder", decoder);
        if (!out.has("chat_template")) out.put("chat_template", zq.formats.text.ChatTemplate.JINJA);
        return out;
    }

    /**
     * The inverse of {@link #stockConfig}: 360's remote-code tokenizer_config.json, {@code auto_map}
     * first and every added token listed as 360 lists it (content, special).
     */
    public static ObjectNode zhinaoConfig(ObjectNode stock) {
        ObjectNode out = F.objectNode();
        out.putObject("auto_map").putArray("AutoTokenizer").add("tokenization_zhinao." + ZHINAO_CLASS).addNull();
        out.put("tokenizer_class", ZHINAO_CLASS);
        stock.properties().forEach(e -> {
            if (!e.getKey().equals("auto_map") && !e.getKey().equals("tokenizer_class")) out.set(e.getKey(), e.getValue().deepCopy());
        });
        if (out.get("added_tokens_decoder") instanceof ObjectNode decoder) {
            decoder.properties().forEach(e -> {
                ObjectNode entry = F.objectNode();
                entry.set("content", e.getValue().get("content"));
                entry.put("special", true);
                e.setValue(entry);
            });
        }
        return out;
    }

    private static ObjectNode type(String type) {
        ObjectNode n = F.objectNode();
        n.put("type", type);
        return n;
    }

    private static ObjectNode replace(String from, String to) {
        ObjectNode n = type("Replace");
        n.putObject("pattern").put("String", from);
        n.put("content", to);
        return n;
    }

    private static ObjectNode byteLevel() {
        ObjectNode n = type("ByteLevel");
        n.put("add_prefix_space", false);
        n.put("trim_offsets", false);
        n.put("use_regex", false);
        return n;
    }
}
