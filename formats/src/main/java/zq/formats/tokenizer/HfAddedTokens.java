package zq.formats.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;

/**
 * The {@code added_tokens} of a tokenizer.json and how Hugging Face tokenizers cuts them out of the
 * input ({@code AddedVocabulary::extract_and_normalize}): tokens with {@code normalized=false} are
 * found in the raw text; the rest of the text is normalized and then searched for the tokens with
 * {@code normalized=true} (whose content is normalized the same way). {@code single_word},
 * {@code lstrip} and {@code rstrip} are honoured.
 */
final class HfAddedTokens {
    /** One entry of {@code added_tokens}. */
    record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
                      boolean normalized, boolean special) {}

    /** A piece of input: either text still to be tokenized ({@code id < 0}) or an added token. */
    record Segment(String text, int id) {}

    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern SPACE_CHAR = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);

    private final Map<Integer, AddedToken> byId = new LinkedHashMap<>();
    private final Map<String, Integer> idByContent = new LinkedHashMap<>();
    private final LiteralMatcher rawMatcher;
    private final LiteralMatcher normalizedMatcher;
    private final UnaryOperator<String> normalizer;

    private HfAddedTokens(List<AddedToken> tokens, UnaryOperator<String> normalizer) {
        this.normalizer = normalizer;
        Map<String, Integer> raw = new HashMap<>();
        Map<String, Integer> normalized = new HashMap<>();
        for (AddedToken t : tokens) {
            byId.put(t.id, t);
            idByContent.put(t.content, t.id);
            if (t.normalized) normalized.put(normalizer.apply(t.content), t.id);
            else raw.put(t.content, t.id);
        }
        this.rawMatcher = new LiteralMatcher(raw);
        this.normalizedMatcher = new LiteralMatcher(normalized);
    }

    static HfAddedTokens parse(JsonNode node, UnaryOperator<String> normalizer, HfBpeModel model, String file) {
        List<AddedToken> tokens = new ArrayList<>();
        if (node != null && node.isArray()) {
            for (JsonNode t : node) {
                if (!t.path("id").canConvertToInt() || !t.path("content").isTextual() || t.path("content").asText().isEmpty()
                        || t.get("id").asInt() < 0 || t.get("id").asInt() > Tokenizer.MAX_ID) {
                    throw new CheckpointException(file + ": added token " + abbreviate(t.toString()) + " needs an id in 0.."
                            + Tokenizer.MAX_ID + " and a non-empty content");
                }
                AddedToken token = new AddedToken(t.get("id").asInt(), t.get("content").asText(),
                        t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                        t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!t.path("special").asBoolean(false)),
                        t.path("special").asBoolean(false));
                Integer inVocab = model.id(token.content);
                if (inVocab != null && inVocab != token.id) {
                    throw new CheckpointException(file + ": added token '" + token.content + "' has id " + token.id
                            + " but the vocab gives it id " + inVocab);
                }
                String inModel = model.token(token.id);
                if (inModel != null && !inModel.equals(token.content)) {
                    throw new CheckpointException(file + ": added token '" + token.content + "' has id " + token.id
                            + ", which the vocab gives to '" + inModel + "'");
                }
                tokens.add(token);
            }
        }
        return new HfAddedTokens(tokens, normalizer);
    }

    AddedToken byId(int id) { return byId.get(id); }

    Integer idOf(String content) { return idByContent.get(content); }

    Iterable<AddedToken> all() { return byId.values(); }

    /** Cuts {@code text} into added tokens and normalized text segments. */
    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : cut(text, rawMatcher)) {
            if (s.id >= 0) {
                out.add(s);
            } else {
                out.addAll(cut(normalizer.apply(s.text), normalizedMatcher));
            }
        }
        return out;
    }

    private List<Segment> cut(String sentence, LiteralMatcher matcher) {
        List<Segment> out = new ArrayList<>();
        int startOffset = 0;
        for (LiteralMatcher.Match m : matcher.findAll(sentence)) {
            AddedToken token = byId.get(m.id());
            int start = m.start();
            int stop = m.end();
            if (start < startOffset) continue; // inside whitespace an earlier rstrip took
            if (token.singleWord) {
                boolean startSpace = start == 0 || !isWordChar(sentence.codePointBefore(start));
                boolean stopSpace = stop == sentence.length() || !isWordChar(sentence.codePointAt(stop));
                if (!startSpace || !stopSpace) continue;
            }
            if (token.lstrip) {
                int s = start;
                while (s > 0 && isSpace(sentence.codePointBefore(s))) s -= Character.charCount(sentence.codePointBefore(s));
                start = Math.max(s, startOffset);
            }
            if (token.rstrip) {
                while (stop < sentence.length() && isSpace(sentence.codePointAt(stop))) stop += Character.charCount(sentence.codePointAt(stop));
            }
            if (startOffset < start) out.add(new Segment(sentence.substring(startOffset, start), -1));
            out.add(new Segment(sentence.substring(start, stop), m.id()));
            startOffset = stop;
        }
        if (startOffset < sentence.length() || out.isEmpty()) out.add(new Segment(sentence.substring(startOffset), -1));
        return out;
    }

    private static boolean isWordChar(int cp) { return WORD_CHAR.matcher(Character.toString(cp)).matches(); }

    private static boolean isSpace(int cp) { return SPACE_CHAR.matcher(Character.toString(cp)).matches(); }

    private static String abbreviate(String s) { return s.length() <= 120 ? s : s.substring(0, 120) + "…"; }
}
