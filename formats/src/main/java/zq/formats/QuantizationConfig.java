package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;
import zq.formats.gptq.ZeroFormat;

import java.nio.file.Path;
import java.util.List;

/** The GPTQ fields of a {@code quantization_config} (or quantize_config.json) that a reader needs. */
public record QuantizationConfig(int bits, int groupSize, boolean descAct, boolean sym, String checkpointFormat,
                                 JsonNode raw) {

    /** How qzeros stores the zero points: v1 ("gptq") zero − 1, "gptq_v2" the zero itself. */
    public ZeroFormat zeroFormat() { return ZeroFormat.ofCheckpointFormat(checkpointFormat); }

    /**
     * The first field (bits, group_size, desc_act, sym, checkpoint_format) that {@code o} states and states differently,
     * or null. A field {@code o} leaves out is no disagreement: short quantize_config.json files exist.
     */
    public String firstDifference(QuantizationConfig o) {
        List<String> mine = List.of(Integer.toString(bits), Integer.toString(groupSize), Boolean.toString(descAct),
                Boolean.toString(sym), checkpointFormat);
        List<String> theirs = List.of(Integer.toString(o.bits), Integer.toString(o.groupSize), Boolean.toString(o.descAct),
                Boolean.toString(o.sym), o.checkpointFormat);
        List<String> keys = List.of("bits", "group_size", "desc_act", "sym", "checkpoint_format");
        for (int i = 0; i < keys.size(); i++) {
            if (o.raw.has(keys.get(i)) && !mine.get(i).equals(theirs.get(i))) {
                return keys.get(i) + " " + theirs.get(i) + " (config.json: " + mine.get(i) + ")";
            }
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
        if (ZeroFormat.ofCheckpointFormat(format) == null) {
            throw new CheckpointException(source + ": quantization_config.checkpoint_format '" + format + "' is not supported (gptq, gptq_v2)");
        }
        return new QuantizationConfig(bits, group, q.path("desc_act").asBoolean(false), q.path("sym").asBoolean(true),
                format, q.deepCopy());
    }
}
