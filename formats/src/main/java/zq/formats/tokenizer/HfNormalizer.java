package zq.formats.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;

/** The {@code normalizer} of a tokenizer.json: Unicode normal forms, alone or in a Sequence. */
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
            default:
                throw new CheckpointException(file + ": normalizer type '" + type
                        + "' is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)");
        }
    }

    private static UnaryOperator<String> form(Normalizer.Form form) {
        return s -> Normalizer.normalize(s, form);
    }
}
