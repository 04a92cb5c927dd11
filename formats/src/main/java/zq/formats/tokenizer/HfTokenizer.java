package zq.formats.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;
import zq.formats.JsonFiles;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) with a byte-level BPE model, as Llama-3 and
 * Qwen2 ship: added tokens, normalizer (Unicode forms, Replace), pre-tokenizer (Split, ByteLevel, Sequence),
 * BPE with merges and {@code ignore_merges}, ByteLevel decoder (optionally followed by {@code Replace}s
 * on the decoded text), and the ids a TemplateProcessing
 * post-processor puts around a sequence. Anything else in the file is rejected with an error that
 * names it, rather than tokenized differently from the reference.
 */
public final class HfTokenizer implements Tokenizer {
    private final String file;
    private final HfAddedTokens added;
    private final HfPreTokenizer preTokenizer;
    private final HfBpeModel model;
    private final UnaryOperator<String> afterDecoding;
    private final int[] prefixIds;
    private final int[] suffixIds;
    private final Map<String, Integer> specials = new LinkedHashMap<>();
    private final int vocabSize;

    private HfTokenizer(String file, HfAddedTokens added, HfPreTokenizer preTokenizer, HfBpeModel model,
                        UnaryOperator<String> afterDecoding, int[] prefixIds, int[] suffixIds) {
        this.file = file;
        this.afterDecoding = afterDecoding;
        this.added = added;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        int limit = model.idLimit();
        List<HfAddedTokens.AddedToken> specialList = new ArrayList<>();
        for (HfAddedTokens.AddedToken t : added.all()) {
            limit = Math.max(limit, t.id() + 1);
            if (t.special()) specialList.add(t);
        }
        specialList.sort((a, b) -> Integer.compare(a.id(), b.id()));
        for (HfAddedTokens.AddedToken t : specialList) specials.put(t.content(), t.id());
        this.vocabSize = limit;
    }

    /** Reads a tokenizer.json. */
    public static HfTokenizer load(Path tokenizerJson) {
        String file = tokenizerJson.toString();
        JsonNode root = JsonFiles.read(tokenizerJson);
        if (root == null || !root.isObject()) throw new CheckpointException(file + ": not a JSON object");
        JsonNode modelNode = root.path("model");
        if (!modelNode.isObject()) throw new CheckpointException(file + ": has no 'model' object");
        HfBpeModel model = HfBpeModel.parse(modelNode, file);
        UnaryOperator<String> normalizer = HfNormalizer.parse(root.get("normalizer"), file);
        if (!HfPreTokenizer.endsWithByteLevel(root.get("pre_tokenizer"))) {
            throw new CheckpointException(file + ": pre_tokenizer must end with ByteLevel (and have it only there); "
                    + "zq reads byte-level BPE tokenizers only");
        }
        HfPreTokenizer preTokenizer = HfPreTokenizer.parse(root.get("pre_tokenizer"), file);
        UnaryOperator<String> afterDecoding = decoderReplaces(root.get("decoder"), file);
        HfAddedTokens added = HfAddedTokens.parse(root.get("added_tokens"), normalizer, model, file);
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        readPostProcessor(root.get("post_processor"), prefix, suffix, file);
        HfTokenizer tokenizer = new HfTokenizer(file, added, preTokenizer, model, afterDecoding,
                prefix.stream().mapToInt(Integer::intValue).toArray(), suffix.stream().mapToInt(Integer::intValue).toArray());
        return tokenizer;
    }

    /**
     * Checks the decoder is ByteLevel, alone or first in a Sequence followed only by {@code Replace}s,
     * and returns those Replaces. After ByteLevel the tokens are one string, so each Replace works on
     * the whole decoded text (tokenizers' {@code Sequence::decode_chain}).
     */
    private static UnaryOperator<String> decoderReplaces(JsonNode decoder, String file) {
        String type = decoder == null || decoder.isNull() ? "none" : decoder.path("type").asText("");
        if (type.equals("ByteLevel")) return UnaryOperator.identity();
        if (type.equals("Sequence")) {
            List<JsonNode> steps = new ArrayList<>();
            decoder.path("decoders").forEach(steps::add);
            if (!steps.isEmpty() && steps.get(0).path("type").asText("").equals("ByteLevel")) {
                List<UnaryOperator<String>> replaces = new ArrayList<>();
                for (JsonNode step : steps.subList(1, steps.size())) {
                    if (!step.path("type").asText("").equals("Replace")) {
                        throw new CheckpointException(file + ": decoder step '" + step.path("type").asText("")
                                + "' after ByteLevel is not supported (only Replace)");
                    }
                    replaces.add(HfNormalizer.replace(step, file));
                }
                return s -> {
                    for (UnaryOperator<String> r : replaces) s = r.apply(s);
                    return s;
                };
            }
        }
        throw new CheckpointException(file + ": decoder '" + type + "' is not supported (only ByteLevel, or a Sequence of"
                + " ByteLevel then Replace steps)");
    }

    /** Collects the special-token ids TemplateProcessing puts before and after sequence A. */
    private static void readPostProcessor(JsonNode node, List<Integer> prefix, List<Integer> suffix, String file) {
        if (node == null || node.isNull()) return;
        String type = node.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> { }
            case "Sequence" -> {
                for (JsonNode n : node.path("processors")) readPostProcessor(n, prefix, suffix, file);
            }
            case "TemplateProcessing" -> {
                boolean afterSequence = false;
                for (JsonNode item : node.path("single")) {
                    if (item.has("Sequence")) {
                        afterSequence = true;
                    } else if (item.has("SpecialToken")) {
                        String name = item.get("SpecialToken").path("id").asText();
                        JsonNode ids = node.path("special_tokens").path(name).path("ids");
                        if (!ids.isArray() || ids.isEmpty()) {
                            throw new CheckpointException(file + ": post_processor uses special token '" + name
                                    + "' but special_tokens gives it no ids");
                        }
                        for (JsonNode id : ids) (afterSequence ? suffix : prefix).add(id.asInt());
                    }
                }
            }
            default -> throw new CheckpointException(file + ": post_processor '" + type
                    + "' is not supported (supported: ByteLevel, TemplateProcessing, Sequence)");
        }
    }

    @Override
    public int[] encode(String text) {
        text = Texts.replaceLoneSurrogates(text);
        IntList out = new IntList(Math.max(16, text.length() / 3));
        Utf8Buffer utf8 = new Utf8Buffer();
        HfPreTokenizer.Sink toModel = (t, start, end) -> model.encode(t, start, end, utf8, out);
        for (HfAddedTokens.Segment segment : added.split(text)) {
            if (segment.id() >= 0) out.add(segment.id());
            else preTokenizer.split(segment.text(), 0, segment.text().length(), toModel);
        }
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            HfAddedTokens.AddedToken a = added.byId(id);
            if (a != null && a.special() && skipSpecialTokens) continue;
            bytes.writeBytes(tokenBytes(id));
        }
        return afterDecoding.apply(LossyUtf8.decode(bytes.toByteArray()));
    }

    @Override
    public String piece(int id) { return tokenString(id); }

    /** What the ByteLevel decoder makes of one token: its bytes, or its UTF-8 if it is not byte-level text. */
    @Override
    public byte[] tokenBytes(int id) {
        String token = tokenString(id);
        byte[] b = ByteLevelAlphabet.decodeOrNull(token);
        return b != null ? b : token.getBytes(StandardCharsets.UTF_8);
    }

    private String tokenString(int id) {
        HfAddedTokens.AddedToken a = added.byId(id);
        if (a != null) return a.content();
        String t = model.token(id);
        if (t == null) throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + file);
        return t;
    }

    @Override
    public int vocabSize() { return vocabSize; }

    @Override
    public OptionalInt specialId(String text) {
        Integer id = added.idOf(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Map<String, Integer> specialTokens() { return Collections.unmodifiableMap(specials); }

    @Override
    public boolean isSpecial(int id) {
        HfAddedTokens.AddedToken a = added.byId(id);
        return a != null && a.special();
    }

    @Override
    public int[] prefixIds() { return prefixIds.clone(); }

    @Override
    public int[] suffixIds() { return suffixIds.clone(); }

    @Override
    public String description() {
        return "Hugging Face byte-level BPE, " + vocabSize + " ids (" + specials.size() + " special), from " + file;
    }
}
