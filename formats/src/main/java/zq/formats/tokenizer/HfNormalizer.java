package zq.formats.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;

/**
 * The {@code normalizer} of a tokenizer.json: Unicode normal forms and {@code Replace} (a literal
 * string or a regex, every non-overlapping match left to right), alone or in a Sequence. The
 * decoder's {@code Replace} steps have the same JSON and meaning ({@link #replace}).
 */
final class HfNormalizer {
    private HfNormalizer() {}

    /** The normalizer described by {@code node} (null or JSON null: identity). */
    static UnaryOperator<String> parse(JsonNode node, String file) {
        if (node == null || node.isNull()) return UnaryOperator.identity();
        String type = node.path("type").asText("");
        switch (type) {
            case "NFC": return form(Normalizer.Form.NFC);
            case "NFD": return form(Normalizer.Form.NFD);
            case "NFKC": return form(Normalizer.Form.NFKC);
            case "NFKD": return form(Normalizer.Form.NFKD);
            case "Sequence": {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (JsonNode n : node.path("normalizers")) steps.add(parse(n, file));
                return s -> {
                    for (UnaryOperator<String> step : steps) s = step.apply(s);
                    return s;
                };
            }
            case "Replace": return replace(node, file);
            default:
                throw new CheckpointException(file + ": normalizer type '" + type
                        + "' is not supported (supported: NFC, NFD, NFKC, NFKD, Replace, Sequence)");
        }
    }

    /** A {@code Replace} step: {@code {"pattern": {"String"|"Regex": p}, "content": c}}. */
    static UnaryOperator<String> replace(JsonNode node, String file) {
        JsonNode pattern = node.path("pattern");
        if (!node.path("content").isTextual()) {
            throw new CheckpointException(file + ": Replace " + node + " has no string 'content'");
        }
        String content = node.get("content").asText();
        if (pattern.path("String").isTextual()) {
            String literal = pattern.get("String").asText();
            if (literal.isEmpty()) throw new CheckpointException(file + ": Replace has an empty String pattern");
            return s -> s.replace(literal, content);
        }
        if (pattern.path("Regex").isTextual()) {
            Pattern regex = HfPreTokenizer.compile(pattern.get("Regex").asText(), file);
            String quoted = Matcher.quoteReplacement(content);
            return s -> regex.matcher(s).replaceAll(quoted);
        }
        throw new CheckpointException(file + ": Replace " + node + " has neither a String nor a Regex pattern");
    }

    private static UnaryOperator<String> form(Normalizer.Form form) {
        return s -> Normalizer.normalize(s, form);
    }
}
