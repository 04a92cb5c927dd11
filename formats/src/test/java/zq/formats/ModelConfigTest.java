package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    @TempDir Path tmp;

    /**
     * A 360Zhinao2-7B-Chat-4K config.json as published (docs/formats.md, "360Zhinao config.json"): the model numbers of the table and
     * the training-only keys the v2 configs carry, which a rewrite must keep untouched and in place.
     */
    static final String ZHINAO2_7B = """
            {
              "architectures": ["ZhinaoForCausalLM"],
              "attention_dropout": 0.1,
              "attn_dropout_prob": 0.0,
              "auto_map": {
                "AutoConfig": "configuration_zhinao.ZhinaoConfig",
                "AutoModelForCausalLM": "modeling_zhinao.ZhinaoForCausalLM"
              },
              "bos_token_id": 1,
              "emb_dropout_prob": 0.0,
              "eos_token_id": 158326,
              "flah-attn_version": "2.5.8",
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.01,
              "intermediate_size": 13056,
              "log_logit": false,
              "max_position_embeddings": 4096,
              "message": {"model_size": "7B-gqa"},
              "model_max_length": 4096,
              "model_type": "zhinao",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "pad_token_id": 0,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 10000.0,
              "switch": false,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.38.2",
              "use_cache": true,
              "use_flash_attn": "auto",
              "use_focal": false,
              "use_loss_weight": false,
              "use_pack_loss": false,
              "vocab_size": 158464
            }
            """;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Path write(String name, String json) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        return Files.writeString(dir.resolve("config.json"), json);
    }

    private ModelConfig parse(ObjectNode json) { return ModelConfig.of(json, tmp.resolve("config.json")); }

    private static ObjectNode tiny() { return SyntheticModel.config(Architecture.LLAMA, 64, 128, 2, 8, 8, 100); }

    private String rejected(ObjectNode json, String what) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse(json));
        assertTrue(e.getMessage().startsWith(tmp.resolve("config.json") + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(what), e.getMessage());
        return e.getMessage();
    }

    private static List<String> keys(JsonNode n) {
        List<String> k = new ArrayList<>();
        n.fieldNames().forEachRemaining(k::add);
        return k;
    }

    @Test void readsTheZhinao2Config() throws Exception {
        ModelConfig c = ModelConfig.read(write("z", ZHINAO2_7B));
        assertEquals(Architecture.ZHINAO, c.architecture());
        assertEquals(4096, c.hiddenSize());
        assertEquals(13056, c.intermediateSize());
        assertEquals(32, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(4, c.queryHeadsPerKvHead());
        assertEquals(158464, c.vocabSize());
        assertEquals(4096, c.maxPositionEmbeddings());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-5, c.rmsNormEps());
        assertNull(c.ropeScaling());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.isQuantized());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test void rewritingKeepsEveryUnknownKeyInOrder() throws Exception {
        ModelConfig c = ModelConfig.read(write("z", ZHINAO2_7B));
        ObjectNode out = c.json();
        // what a Zhinao -> Qwen2 conversion changes (docs/formats.md, "Zhinao to Qwen2"); everything else must survive as it was
        out.putArray("architectures").add("Qwen2ForCausalLM");
        out.put("model_type", "qwen2");
        out.remove("auto_map");
        Path written = tmp.resolve("rewritten.json");
        ModelConfig.write(out, written);

        JsonNode original = JSON.readTree(ZHINAO2_7B);
        JsonNode back = JSON.readTree(written.toFile());
        List<String> expectedKeys = keys(original);
        expectedKeys.remove("auto_map");
        assertEquals(expectedKeys, keys(back));
        for (String k : expectedKeys) {
            if (k.equals("architectures") || k.equals("model_type")) continue;
            assertEquals(original.get(k), back.get(k), k);
        }
        assertEquals("7B-gqa", back.path("message").path("model_size").asText());
        assertEquals("2.5.8", back.path("flah-attn_version").asText());
        assertEquals(Architecture.QWEN2, ModelConfig.read(written).architecture());
        assertTrue(Files.readString(written).contains("\"hidden_size\": 4096,\n"), "laid out like json.dumps(indent=2)");
        assertEquals(Architecture.ZHINAO, c.architecture(), "json() is a copy");
    }

    @Test void kvHeadsDefaultToHeadsAndHeadDimComesFromConfig() {
        ObjectNode j = tiny();
        j.remove("num_key_value_heads");
        assertEquals(8, parse(j).numKvHeads());
        j.put("num_key_value_heads", 2);
        j.put("head_dim", 16); // wider than hidden/heads = 8, as Qwen3 and Gemma allow
        ModelConfig c = parse(j);
        assertEquals(16, c.headDim());
        assertEquals(4, c.queryHeadsPerKvHead());
        LinearRef o = ModelLayout.of(c).layers().get(0).o();
        assertEquals(64, o.outFeatures());
        assertEquals(8 * 16, o.inFeatures());
    }

    @Test void ropeScalingWithRopeTypeOrLegacyType() {
        ObjectNode j = tiny();
        ObjectNode rs = j.putObject("rope_scaling");
        rs.put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8192);
        RopeScaling r = parse(j).ropeScaling();
        assertEquals("llama3", r.type());
        assertEquals(8.0, r.factor());
        assertEquals(4.0, r.number("high_freq_factor", 0));
        assertEquals(8192, r.number("original_max_position_embeddings", 0));

        j.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertEquals("linear", parse(j).ropeScaling().type());
        assertEquals(2.0, parse(j).ropeScaling().factor());

        j.putObject("rope_scaling").put("type", "su").put("factor", 2.0);
        rejected(j, "rope_scaling type 'su' is not supported");
        j.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
        rejected(j, "rope_scaling llama3 needs low_freq_factor");
    }

    @Test void transformersV5RopeParameters() {
        ObjectNode j = tiny();
        j.remove("rope_theta");
        j.remove("rope_scaling");
        j.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1_000_000.0);
        assertEquals(1e6, parse(j).ropeTheta());
        assertNull(parse(j).ropeScaling());
        j.putObject("rope_parameters").put("rope_type", "yarn").put("factor", 4.0).put("rope_theta", 5e5);
        assertEquals(5e5, parse(j).ropeTheta());
        assertEquals("yarn", parse(j).ropeScaling().type());
        assertEquals(4.0, parse(j).ropeScaling().factor());
    }

    @Test void quantizationConfigIsParsed() {
        ObjectNode j = tiny();
        j.putObject("quantization_config").put("quant_method", "gptq").put("bits", 4).put("group_size", 128)
                .put("desc_act", false).put("sym", true).put("damp_percent", 0.01).put("true_sequential", true)
                .put("checkpoint_format", "gptq");
        QuantizationConfig q = parse(j).quantization();
        assertEquals(4, q.bits());
        assertEquals(128, q.groupSize());
        assertFalse(q.descAct());
        assertTrue(q.sym());
        assertEquals(zq.formats.gptq.ZeroFormat.GPTQ_V1, q.zeroFormat());
        assertEquals(0.01, q.raw().path("damp_percent").asDouble());

        j.putObject("quantization_config").put("bits", 8).put("group_size", 128);
        rejected(j, "quantization_config.bits is 8; zq reads 4-bit GPTQ only");
        j.putObject("quantization_config").put("group_size", 128);
        rejected(j, "quantization_config.bits is missing; zq reads 4-bit GPTQ only");
        j.putObject("quantization_config").put("quant_method", "awq").put("bits", 4);
        rejected(j, "quant_method 'awq' is not supported");
        j.putObject("quantization_config").put("bits", 4).put("group_size", 0);
        rejected(j, "group_size 0 is invalid");
    }

    @Test void quantizeConfigJsonIsReadWhenConfigHasNone() throws Exception {
        Path cfg = write("q", HfJson.pretty(tiny()));
        Files.writeString(cfg.resolveSibling("quantize_config.json"),
                "{\"bits\": 4, \"group_size\": 64, \"desc_act\": true, \"sym\": false}");
        QuantizationConfig q = ModelConfig.read(cfg).quantization();
        assertEquals(64, q.groupSize());
        assertTrue(q.descAct());
        assertFalse(q.sym());
        Files.writeString(cfg.resolveSibling("quantize_config.json"), "{\"bits\": 3, \"group_size\": 64}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.read(cfg));
        assertTrue(e.getMessage().startsWith(cfg.resolveSibling("quantize_config.json") + ": quantization_config.bits is 3"), e.getMessage());
    }

    @Test void badConfigsAreNamed() throws Exception {
        ObjectNode j = tiny();
        j.remove("intermediate_size");
        rejected(j, "config is missing required field 'intermediate_size'");

        j = tiny();
        j.put("model_type", "gpt2").putArray("architectures").add("GPT2LMHeadModel");
        rejected(j, "architecture not supported (model_type 'gpt2', architectures [\"GPT2LMHeadModel\"])");

        j = tiny();
        j.put("hidden_size", 65);
        rejected(j, "hidden_size 65 is not divisible by num_attention_heads 8");
        j.putNull("head_dim");
        rejected(j, "hidden_size 65 is not divisible by num_attention_heads 8");

        j = tiny();
        j.put("num_key_value_heads", 3);
        rejected(j, "num_attention_heads 8 is not a multiple of num_key_value_heads 3");

        j = tiny();
        j.put("hidden_size", "64");
        rejected(j, "config field 'hidden_size' must be a positive integer, got \"64\"");

        j = tiny();
        j.put("hidden_act", "gelu");
        rejected(j, "hidden_act 'gelu' is not supported");

        j = tiny();
        j.put("rope_theta", "big");
        rejected(j, "config field 'rope_theta' must be a number");

        Path notJson = write("bad", "{\"hidden_size\": ");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.read(notJson));
        assertTrue(e.getMessage().startsWith(notJson + ": not valid JSON"), e.getMessage());
        Path absent = tmp.resolve("none/config.json");
        e = assertThrows(CheckpointException.class, () -> ModelConfig.read(absent));
        assertEquals(absent + ": config.json not found", e.getMessage());
    }

    @Test void publishedZhinaoParameterCountsFromConfigArithmetic() throws Exception {
        // docs/formats.md, "Parameter counts": 360Zhinao2-7B has 7,774,605,312 parameters, 360Zhinao-7B (v1, MHA, ffn 11008) 7,774,801,920
        assertEquals(7_774_605_312L, CheckpointStats.parameters(ModelConfig.read(write("v2", ZHINAO2_7B))));
        ObjectNode v1 = (ObjectNode) JSON.readTree(ZHINAO2_7B);
        v1.put("num_key_value_heads", 32).put("intermediate_size", 11008);
        assertEquals(7_774_801_920L, CheckpointStats.parameters(parse(v1)));
    }
}
