package zq.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.ModelConfig;

/**
 * Rewrites a config.json for a conversion. Only the keys a conversion sets change; every other key
 * keeps its value and position ({@link ModelConfig#json()}), so unknown and training-only keys survive.
 */
final class ConfigRewriter {
    private ConfigRewriter() {}

    /** The weight-file stem {@link zq.formats.ShardedWriter} writes and AutoGPTQ must be pointed at. */
    static final String MODEL_FILE_BASE_NAME = "model";

    static ObjectNode rewrite(ModelConfig in, ConvertOptions o) {
        ObjectNode json = in.json();
        if (o.maxPositionEmbeddings() != null) json.put("max_position_embeddings", o.maxPositionEmbeddings());
        if (json.get("rope_parameters") instanceof ObjectNode parameters) {
            setRopeParameters(parameters, o);
            // a v5 config may still carry the legacy keys; keep them consistent where present
            if (o.ropeBase() != null && json.has("rope_theta")) json.put("rope_theta", o.ropeBase());
            if (json.has("rope_scaling")) setLegacyScaling(json, o);
        } else {
            if (o.ropeBase() != null) json.put("rope_theta", o.ropeBase());
            setLegacyScaling(json, o);
        }
        if (o.dtype() != null) setDtype(json, o.dtype());
        if (o.target() == Architecture.QWEN2) toQwen2(in, json);
        if (o.target() == Architecture.ZHINAO) toZhinao(in, json);
        if (json.get("quantization_config") instanceof ObjectNode q) pointAtModelFiles(q);
        return json;
    }

    private static void setLegacyScaling(ObjectNode json, ConvertOptions o) {
        if (o.ropeScaling() != null) json.set("rope_scaling", o.ropeScaling().toJson());
        if (o.removeRopeScaling()) json.putNull("rope_scaling");
    }

    /**
     * transformers v5 keeps base and scaling together in {@code rope_parameters}: a new scaling
     * replaces every key but rope_theta; removing it leaves {@code rope_type: default}.
     */
    private static void setRopeParameters(ObjectNode parameters, ConvertOptions o) {
        if (o.ropeBase() != null) parameters.put("rope_theta", o.ropeBase());
        if (o.ropeScaling() == null && !o.removeRopeScaling()) return;
        JsonNode theta = parameters.get("rope_theta");
        parameters.removeAll();
        if (o.ropeScaling() != null) {
            parameters.setAll(o.ropeScaling().toJson());
            parameters.remove("type"); // v5 reads rope_type only
        } else {
            parameters.put("rope_type", "default");
        }
        if (theta != null) parameters.set("rope_theta", theta);
    }

    /** transformers v5 writes "dtype", earlier versions "torch_dtype": update whichever the config has. */
    static void setDtype(ObjectNode json, DType dtype) {
        if (json.has("dtype")) json.put("dtype", dtype.torchName());
        if (json.has("torch_dtype") || !json.has("dtype")) json.put("torch_dtype", dtype.torchName());
    }

    /**
     * AutoGPTQ loads {@code model_file_base_name}.safetensors when the key is set; the output is written
     * as model.safetensors (or its shards), so a different stem would make it look for a missing file.
     */
    static void pointAtModelFiles(ObjectNode quantizationConfig) {
        JsonNode base = quantizationConfig.get("model_file_base_name");
        if (base != null && !base.isNull()) quantizationConfig.put("model_file_base_name", MODEL_FILE_BASE_NAME);
    }

    /** docs/formats.md, "Zhinao to Qwen2": the lossless Zhinao → Qwen2ForCausalLM mapping, loadable without remote code. */
    private static void toQwen2(ModelConfig in, ObjectNode json) {
        if (in.architecture() != Architecture.ZHINAO) {
            throw new CheckpointException(in.source() + ": --to qwen2 converts Zhinao checkpoints, but this model is "
                    + in.architecture().modelType());
        }
        if (in.attentionBias()) {
            throw new CheckpointException(in.source() + ": this Zhinao model has an o_proj bias ('bias' or 'attention_bias' is"
                    + " true); Qwen2 has no o_proj bias, so --to qwen2 would lose it");
        }
        if (in.mlpBias()) {
            throw new CheckpointException(in.source() + ": this Zhinao model has MLP biases (mlp_bias is true); Qwen2's MLP"
                    + " has none, so --to qwen2 would lose them");
        }
        setArchitecture(json, Architecture.QWEN2);
        json.remove("auto_map");
        json.put("use_sliding_window", false);
        json.putNull("sliding_window");
        json.put("max_window_layers", in.numLayers());
    }

    /** The inverse of {@link #toQwen2}: Zhinao's remote-code config. */
    private static void toZhinao(ModelConfig in, ObjectNode json) {
        if (in.architecture() != Architecture.QWEN2) {
            throw new CheckpointException(in.source() + ": --to zhinao converts Qwen2 checkpoints, but this model is "
                    + in.architecture().modelType());
        }
        if (json.path("use_sliding_window").asBoolean(false)) {
            throw new CheckpointException(in.source() + ": use_sliding_window is true; Zhinao has no sliding-window attention");
        }
        for (String key : new String[]{"attention_bias", "bias"}) {
            if (json.path(key).asBoolean(false)) {
                throw new CheckpointException(in.source() + ": '" + key + "' is true, which Zhinao reads as an o_proj bias"
                        + " that a Qwen2 model does not have");
            }
        }
        setArchitecture(json, Architecture.ZHINAO);
        for (String key : new String[]{"use_sliding_window", "sliding_window", "max_window_layers", "layer_types"}) json.remove(key);
        ObjectNode autoMap = json.putObject("auto_map");
        autoMap.put("AutoConfig", "configuration_zhinao.ZhinaoConfig");
        autoMap.put("AutoModelForCausalLM", "modeling_zhinao.ZhinaoForCausalLM");
    }

    private static void setArchitecture(ObjectNode json, Architecture a) {
        json.putArray("architectures").add(a.hfClass());
        json.put("model_type", a.modelType());
    }
}
