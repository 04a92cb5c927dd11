package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/** The GPTQ fields of a {@code quantization_config} (or quantize_config.json) that a reader needs. */
public record QuantizationConfig(int bits, int groupSize, boolean descAct, boolean sym, String checkpointFormat,
                                 JsonNode raw) {

    /** v2 stores zero points as they are; v1 ("gptq") stores zero − 1. */
    public boolean zerosStoredMinusOne() { return !"gptq_v2".equals(checkpointFormat); }

    /** The first field (bits, group_size, desc_act, sym, checkpoint_format) on which the two differ, or null. */
    public String firstDifference(QuantizationConfig o) {
        if (bits != o.bits) return "bits " + o.bits + " (config.json: " + bits + ")";
        if (groupSize != o.groupSize) return "group_size " + o.groupSize + " (config.json: " + groupSize + ")";
        if (descAct != o.descAct) return "desc_act " + o.descAct + " (config.json: " + descAct + ")";
        if (sym != o.sym) return "sym " + o.sym + " (config.json: " + sym + ")";
        if (!checkpointFormat.equals(o.checkpointFormat)) {
            return "checkpoint_format " + o.checkpointFormat + " (config.json: " + checkpointFormat + ")";
        }
        return null;
    }

    public static QuantizationConfig parse(JsonNode q, Path source) {
        if (q == null || q.isNull()) return null;
        String method = q.path("quant_method").asText("gptq");
        if (!method.equals("gptq")) {
            throw new CheckpointException(source + ": quantization_config.quant_method '" + method + "' is not supported (only gptq)");
        }
        int bits = q.path("bits").asInt(-1);
        if (bits != 4) {
            throw new CheckpointException(source + ": quantization_config.bits is " + (q.has("bits") ? q.get("bits").toString() : "missing")
                    + "; zq reads 4-bit GPTQ only");
        }
        int group = q.path("group_size").asInt(-1);
        if (group == 0 || group < -1) throw new CheckpointException(source + ": quantization_config.group_size " + group + " is invalid");
        String format = q.path("checkpoint_format").asText("gptq");
        if (!format.equals("gptq") && !format.equals("gptq_v2")) {
            throw new CheckpointException(source + ": quantization_config.checkpoint_format '" + format + "' is not supported (gptq, gptq_v2)");
        }
        return new QuantizationConfig(bits, group, q.path("desc_act").asBoolean(false), q.path("sym").asBoolean(true),
                format, q.deepCopy());
    }
}
