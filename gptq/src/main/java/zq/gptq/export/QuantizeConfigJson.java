package zq.gptq.export;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import zq.gptq.GptqConfig;
import zq.gptq.pipeline.PipelineOptions;

/**
 * The dict written, identical, to {@code quantize_config.json} and to config.json's {@code quantization_config}
 * (docs/gptq.md, "Files and configs"): AutoGPTQ reads the file, transformers and vLLM the config, and tools disagree when the two
 * differ. Keys follow the set in docs/gptq.md, "Settings that load everywhere": {@code quant_method} (required by transformers and vLLM),
 * {@code checkpoint_format} ("gptq" = v1 zeros; "gptq_v2" only for asymmetric grids), {@code sym} (vLLM Marlin needs
 * it present), {@code model_file_base_name} "model" (AutoGPTQ finds model.safetensors and its shard index by it),
 * and the informational {@code damp_percent}, {@code static_groups}, {@code true_sequential}. {@code meta} names the
 * producer and the method, since a round-to-nearest checkpoint has the same layout as a GPTQ one.
 */
public final class QuantizeConfigJson {
    /** The producer tag in {@code meta.quantizer}, "tool:version" as GPTQModel writes its own. */
    public static final String PRODUCER = "zq:0.1.0";
    /** Weight file stem: model.safetensors or model-0000i-of-0000N.safetensors + model.safetensors.index.json. */
    public static final String MODEL_FILE_BASE_NAME = "model";

    /** The settings the summary and the text report repeat, in this order: keys of the dict {@link #of} writes. */
    public static final List<String> SETTINGS = List.of("checkpoint_format", "bits", "group_size", "desc_act", "sym",
            "static_groups", "true_sequential", "damp_percent");
    /** The keys AutoGPTQ also writes into the safetensors metadata, as "gptq_" + key strings. */
    public static final List<String> METADATA = List.of("bits", "group_size", "desc_act", "damp_percent", "checkpoint_format",
            "quant_method");

    private QuantizeConfigJson() {}

    public static ObjectNode of(PipelineOptions options) {
        GptqConfig c = options.gptq();
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("bits", c.bits());
        q.put("group_size", c.groupSize());
        q.put("desc_act", c.descAct());
        q.put("static_groups", c.staticGroups());
        q.put("sym", c.sym());
        q.put("true_sequential", options.trueSequential());
        q.put("damp_percent", c.dampPercent());
        q.put("lm_head", false);
        q.putNull("model_name_or_path");
        q.put("model_file_base_name", MODEL_FILE_BASE_NAME);
        q.put("quant_method", "gptq");
        q.put("checkpoint_format", options.zeroFormat().checkpointFormat());
        q.put("pack_dtype", "int32");
        ObjectNode meta = q.putObject("meta");
        meta.putArray("quantizer").add(PRODUCER);
        meta.put("method", options.method().methodName());
        meta.put("mse", c.mse());
        return q;
    }
}
