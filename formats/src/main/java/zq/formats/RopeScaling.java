package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A config's {@code rope_scaling} block. {@code type} comes from {@code rope_type} or the legacy
 * {@code type} key; the other keys are read with the defaults transformers uses.
 */
public record RopeScaling(String type, double factor, ObjectNode raw) {

    public static RopeScaling parse(JsonNode node, Path source) {
        if (node == null || node.isNull()) return null;
        if (!node.isObject()) throw new CheckpointException(source + ": rope_scaling must be an object or null");
        JsonNode t = node.has("rope_type") ? node.get("rope_type") : node.get("type");
        if (t == null || !t.isTextual()) throw new CheckpointException(source + ": rope_scaling has no rope_type (or type)");
        String type = t.asText().toLowerCase(Locale.ROOT);
        if (!type.equals("default") && !type.equals("linear") && !type.equals("dynamic") && !type.equals("yarn")
                && !type.equals("llama3")) {
            throw new CheckpointException(source + ": rope_scaling type '" + type + "' is not supported (default, linear, dynamic, yarn, llama3)");
        }
        JsonNode f = node.get("factor");
        if (!type.equals("default") && (f == null || !f.isNumber())) {
            throw new CheckpointException(source + ": rope_scaling of type " + type + " needs a numeric factor");
        }
        double factor = f == null ? 1.0 : f.asDouble();
        if (type.equals("llama3")) {
            for (String k : new String[]{"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
                if (!node.has(k)) throw new CheckpointException(source + ": rope_scaling llama3 needs " + k);
            }
        }
        return new RopeScaling(type, factor, ((ObjectNode) node).deepCopy());
    }

    public double number(String key, double dflt) {
        JsonNode v = raw.get(key);
        return v == null || v.isNull() ? dflt : v.asDouble();
    }

    public boolean has(String key) { return raw.has(key) && !raw.get(key).isNull(); }
}
