package zq.convert;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code rope_scaling} block given on the command line as {@code TYPE:factor=F[,key=value...]},
 * checked against the keys transformers' modeling_rope_utils requires and accepts for each type
 * (docs/formats.md, "RoPE variants").
 */
public record RopeScalingOption(String type, Map<String, Double> values) {

    private record Spec(List<String> required, List<String> optional) {}

    private static final String ORIGINAL_MAX = "original_max_position_embeddings";
    private static final Map<String, Spec> TYPES = Map.of(
            "linear", new Spec(List.of("factor"), List.of()),
            "dynamic", new Spec(List.of("factor"), List.of(ORIGINAL_MAX)),
            "yarn", new Spec(List.of("factor"), List.of(ORIGINAL_MAX, "attention_factor", "beta_fast", "beta_slow",
                    "mscale", "mscale_all_dim")),
            "llama3", new Spec(List.of("factor", "low_freq_factor", "high_freq_factor", ORIGINAL_MAX), List.of()));

    public RopeScalingOption {
        values = Map.copyOf(values);
    }

    /** Parses {@code TYPE:key=value,...}; throws IllegalArgumentException naming what is wrong. */
    public static RopeScalingOption parse(String text) {
        int colon = text.indexOf(':');
        String type = (colon < 0 ? text : text.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        Spec spec = TYPES.get(type);
        if (spec == null) {
            throw new IllegalArgumentException("--rope-scaling: unknown type '" + type + "' (expected linear, dynamic, yarn or llama3)");
        }
        Map<String, Double> values = new LinkedHashMap<>();
        String rest = colon < 0 ? "" : text.substring(colon + 1).trim();
        if (!rest.isEmpty()) {
            for (String kv : rest.split(",")) {
                int eq = kv.indexOf('=');
                if (eq < 0) throw new IllegalArgumentException("--rope-scaling: '" + kv.trim() + "' is not key=value");
                String key = kv.substring(0, eq).trim(), value = kv.substring(eq + 1).trim();
                if (!spec.required.contains(key) && !spec.optional.contains(key)) {
                    throw new IllegalArgumentException("--rope-scaling: " + type + " does not take '" + key + "' (it takes "
                            + String.join(", ", concat(spec.required, spec.optional)) + ")");
                }
                if (values.put(key, number(key, value)) != null) {
                    throw new IllegalArgumentException("--rope-scaling: '" + key + "' is given twice");
                }
            }
        }
        for (String k : spec.required) {
            if (!values.containsKey(k)) {
                throw new IllegalArgumentException("--rope-scaling: " + type + " requires '" + k + "' (required: "
                        + String.join(", ", spec.required) + ")");
            }
        }
        RopeScalingOption o = new RopeScalingOption(type, values);
        o.checkValues();
        return o;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new java.util.ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    private static double number(String key, String value) {
        double d;
        try {
            d = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--rope-scaling: " + key + "=" + value + " is not a number");
        }
        if (!Double.isFinite(d)) throw new IllegalArgumentException("--rope-scaling: " + key + "=" + value + " is not finite");
        if (key.equals(ORIGINAL_MAX) && (d != Math.rint(d) || d < 1 || d > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("--rope-scaling: " + ORIGINAL_MAX + "=" + value + " must be a positive integer");
        }
        return d;
    }

    /** The constraints transformers' rope validation enforces. */
    private void checkValues() {
        double factor = values.get("factor");
        if (factor < 1) throw new IllegalArgumentException("--rope-scaling: factor=" + factor + " must be at least 1");
        if (type.equals("llama3") && !(values.get("low_freq_factor") < values.get("high_freq_factor"))) {
            throw new IllegalArgumentException("--rope-scaling: llama3 low_freq_factor (" + values.get("low_freq_factor")
                    + ") must be below high_freq_factor (" + values.get("high_freq_factor") + ")");
        }
    }

    /**
     * The config block: {@code rope_type} for current transformers and vLLM plus the legacy {@code type}
     * that older releases read, then the values in canonical order.
     */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("rope_type", type);
        n.put("type", type);
        Spec spec = TYPES.get(type);
        for (String k : concat(spec.required, spec.optional)) {
            Double v = values.get(k);
            if (v == null) continue;
            if (k.equals(ORIGINAL_MAX)) n.put(k, v.intValue());
            else n.put(k, v);
        }
        return n;
    }
}
