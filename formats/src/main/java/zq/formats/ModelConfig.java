package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face {@code config.json} of a llama, qwen2, mistral or zhinao decoder. The parsed fields
 * describe the model; {@link #json()} keeps every key (known or not) in its original order, so a
 * rewritten config changes only what a conversion sets.
 */
public final class ModelConfig {
    private final Path source;
    private final ObjectNode json;
    private final Architecture architecture;
    private final int hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, vocabSize;
    private final int maxPositionEmbeddings;
    private final double ropeTheta, rmsNormEps;
    private final RopeScaling ropeScaling;
    private final boolean tieWordEmbeddings, attentionBias, mlpBias;
    private final String torchDtype;
    private final QuantizationConfig quantization;

    private ModelConfig(Path source, ObjectNode json) {
        this(source, json, json.get("quantization_config"), source);
    }

    /** {@code quantization} comes from config.json or, for older AutoGPTQ folders, quantize_config.json. */
    private ModelConfig(Path source, ObjectNode json, JsonNode quantization, Path quantizationSource) {
        this.source = source;
        this.json = json;
        this.architecture = detect(source, json);
        this.hiddenSize = required(source, json, "hidden_size");
        this.intermediateSize = required(source, json, "intermediate_size");
        this.numLayers = required(source, json, "num_hidden_layers");
        this.numHeads = required(source, json, "num_attention_heads");
        this.vocabSize = required(source, json, "vocab_size");
        JsonNode kv = json.get("num_key_value_heads");
        this.numKvHeads = kv == null || kv.isNull() ? numHeads : positive(source, "num_key_value_heads", kv);
        JsonNode hd = json.get("head_dim");
        boolean derivedHeadDim = hd == null || hd.isNull();
        this.headDim = derivedHeadDim ? hiddenSize / numHeads : positive(source, "head_dim", hd);
        if (derivedHeadDim && hiddenSize % numHeads != 0) {
            throw new CheckpointException(source + ": hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numHeads);
        }
        if (numHeads % numKvHeads != 0) {
            throw new CheckpointException(source + ": num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        JsonNode maxPos = json.get("max_position_embeddings");
        this.maxPositionEmbeddings = maxPos == null || maxPos.isNull() ? 4096 : positive(source, "max_position_embeddings", maxPos);
        // transformers v5 writes rope_parameters {rope_theta, rope_type, ...} instead of rope_theta/rope_scaling
        JsonNode ropeParameters = json.path("rope_parameters");
        this.ropeTheta = number(source, json, "rope_theta", number(source, ropeParameters, "rope_theta", 10000.0));
        this.rmsNormEps = number(source, json, "rms_norm_eps", 1e-6);
        // a zero or negative epsilon makes RMSNorm divide by zero or take the root of a negative: NaN logits
        if (!(rmsNormEps > 0 && rmsNormEps < 1)) {
            throw new CheckpointException(source + ": config field 'rms_norm_eps' must be in (0, 1), got " + rmsNormEps);
        }
        if (!(ropeTheta > 1 && Double.isFinite(ropeTheta))) {
            throw new CheckpointException(source + ": config field 'rope_theta' must be a finite number above 1, got " + ropeTheta);
        }
        JsonNode scaling = json.get("rope_scaling");
        if ((scaling == null || scaling.isNull()) && ropeParameters.isObject()
                && !ropeParameters.path("rope_type").asText("default").equals("default")) {
            scaling = ropeParameters;
        }
        this.ropeScaling = RopeScaling.parse(scaling, source);
        this.tieWordEmbeddings = json.path("tie_word_embeddings").asBoolean(false);
        this.attentionBias = json.path("attention_bias").asBoolean(false) || json.path("bias").asBoolean(false);
        this.mlpBias = json.path("mlp_bias").asBoolean(false);
        this.torchDtype = json.path("torch_dtype").asText(json.path("dtype").asText("float32"));
        this.quantization = QuantizationConfig.parse(quantization, quantizationSource);
        String act = json.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new CheckpointException(source + ": hidden_act '" + act + "' is not supported (silu only)");
    }

    public static ModelConfig read(Path configJson) {
        if (!Files.isRegularFile(configJson)) throw new CheckpointException(configJson + ": config.json not found");
        JsonNode n = JsonFiles.read(configJson);
        if (n == null || !n.isObject()) throw new CheckpointException(configJson + ": not a JSON object");
        ObjectNode json = (ObjectNode) n;
        Path quantizeConfig = configJson.resolveSibling(QUANTIZE_CONFIG);
        if (!Files.isRegularFile(quantizeConfig)) return new ModelConfig(configJson, json);
        JsonNode q = JsonFiles.read(quantizeConfig);
        if (!json.hasNonNull("quantization_config")) return new ModelConfig(configJson, json, q, quantizeConfig);
        ModelConfig c = new ModelConfig(configJson, json);
        // transformers reads config.json, AutoGPTQ reads quantize_config.json: two answers would load two models
        QuantizationConfig other = QuantizationConfig.parse(q, quantizeConfig);
        String diff = c.quantization() == null || other == null ? null : c.quantization().firstDifference(other);
        if (diff != null) {
            throw new CheckpointException(quantizeConfig + ": " + diff + " disagrees with config.json's quantization_config; "
                    + "fix one of the two files");
        }
        return c;
    }

    /** AutoGPTQ's separate file for the quantization settings, read when config.json has none. */
    public static final String QUANTIZE_CONFIG = "quantize_config.json";

    /** Parses an in-memory config (its copy); {@code source} names it in errors. */
    public static ModelConfig of(ObjectNode json, Path source) { return new ModelConfig(source, json.deepCopy()); }

    private static Architecture detect(Path source, ObjectNode json) {
        Architecture a = Architecture.fromModelType(json.path("model_type").asText(null));
        if (a == null) {
            for (JsonNode c : json.path("architectures")) {
                a = Architecture.fromHfClass(c.asText());
                if (a != null) break;
            }
        }
        if (a == null) {
            throw new CheckpointException(source + ": architecture not supported (model_type '" + json.path("model_type").asText("")
                    + "', architectures " + json.path("architectures") + "); zq supports llama, qwen2, mistral, zhinao");
        }
        return a;
    }

    private static double number(Path source, JsonNode json, String key, double dflt) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new CheckpointException(source + ": config field '" + key + "' must be a number, got " + v);
        return v.asDouble();
    }

    private static int required(Path source, ObjectNode json, String key) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) throw new CheckpointException(source + ": config is missing required field '" + key + "'");
        return positive(source, key, v);
    }

    private static int positive(Path source, String key, JsonNode v) {
        if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": config field '" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    public Path source() { return source; }
    public Architecture architecture() { return architecture; }
    public int hiddenSize() { return hiddenSize; }
    public int intermediateSize() { return intermediateSize; }
    public int numLayers() { return numLayers; }
    public int numHeads() { return numHeads; }
    public int numKvHeads() { return numKvHeads; }
    public int headDim() { return headDim; }
    public int vocabSize() { return vocabSize; }
    public int maxPositionEmbeddings() { return maxPositionEmbeddings; }
    public double ropeTheta() { return ropeTheta; }
    public double rmsNormEps() { return rmsNormEps; }
    /** Null when the config has none (plain RoPE). */
    public RopeScaling ropeScaling() { return ropeScaling; }
    public boolean tieWordEmbeddings() { return tieWordEmbeddings; }
    /** Llama's attention_bias (q, k, v and o) or Zhinao's bias flag (o_proj). */
    public boolean attentionBias() { return attentionBias; }
    public boolean mlpBias() { return mlpBias; }
    public String torchDtype() { return torchDtype; }
    /** Null for a dense checkpoint. */
    public QuantizationConfig quantization() { return quantization; }
    public boolean isQuantized() { return quantization != null; }

    /**
     * Refuses windows longer than the positions the model was trained on: RoPE past max_position_embeddings gives a
     * perplexity (or Hessians) that describe nothing about the model as it is used.
     */
    public void checkSeqLen(int seqLen, Path model) {
        if (seqLen > maxPositionEmbeddings) {
            throw new CheckpointException(model + ": --seqlen " + seqLen + " exceeds max_position_embeddings " + maxPositionEmbeddings
                    + " of config.json; pass --seqlen " + maxPositionEmbeddings + " or less");
        }
    }

    /** Query heads per KV head (grouped-query attention); not GPTQ's columns per quantization group. */
    public int queryHeadsPerKvHead() { return numHeads / numKvHeads; }

    /** A deep copy of the whole JSON, every key in its original order, for rewriting. */
    public ObjectNode json() { return json.deepCopy(); }

    /** Writes the node as config.json text, laid out as transformers writes it ({@link HfJson}). */
    public static void write(ObjectNode node, Path file) throws IOException {
        SafetensorsWriter.writeText(file, HfJson.pretty(node));
    }
}
