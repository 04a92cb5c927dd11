package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.SyntheticModel;
import zq.formats.TensorData;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static zq.cli.CliRun.zq;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {
    @TempDir Path tmp;

    private static JsonNode json(Path dir, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("inspect", dir.toString(), "--json"));
        args.addAll(List.of(more));
        CliRun r = zq(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        return new ObjectMapper().readTree(r.out());
    }

    private static String n(long v) { return String.format(Locale.ROOT, "%,d", v); }

    @Test void singleFileBf16Llama() throws Exception {
        // hidden 32, intermediate 64, 2 layers, 4 heads (MHA), vocab 50, untied
        Path dir = SyntheticModel.write(tmp.resolve("llama"), SyntheticModel.config(Architecture.LLAMA, 32, 64, 2, 4, 4, 50), DType.BF16, 1);
        long perLayer = 4 * 32 * 32 + 3 * 64 * 32 + 2 * 32;   // q,k,v,o + gate,up,down + two norms = 10,304
        long params = 2 * perLayer + 2 * 50 * 32 + 32;        // + embed and lm_head + final norm = 23,840
        assertEquals(23_840, params);

        JsonNode r = json(dir);
        assertEquals("llama", r.path("architecture").asText());
        assertEquals(2, r.path("num_hidden_layers").asInt());
        assertEquals(4, r.path("num_key_value_heads").asInt());
        assertEquals(8, r.path("head_dim").asInt());
        assertEquals(params, r.path("parameters").asLong());
        assertEquals(params, r.path("stored_elements").asLong());
        assertEquals("dense", r.path("parameters_counted_as").asText());
        assertEquals(2 * params, r.path("bytes").asLong());
        assertEquals(1 + 2 * 9 + 2, r.path("tensor_count").asInt());
        assertEquals(2 * params, r.path("dtypes").path("BF16").path("bytes").asLong());
        assertEquals(1, r.path("dtypes").size());
        assertEquals("[\"model.safetensors\"]", r.path("shards").toString());
        assertTrue(r.path("quantization").isNull());
        assertTrue(r.path("rope_scaling").isNull());
        assertEquals(10000.0, r.path("rope_theta").asDouble());
        assertFalse(r.has("tensors"));

        CliRun text = zq("inspect", dir.toString());
        assertEquals(0, text.code(), text.err());
        String out = text.out();
        assertTrue(out.contains("Architecture   llama (LlamaForCausalLM)\n"), out);
        assertTrue(out.contains("Heads          4 query, 4 KV (MHA), head_dim 8\n"), out);
        assertTrue(out.contains("Parameters     " + n(params) + "\n"), out);
        assertTrue(out.contains("Dtypes         BF16  21 tensors, " + n(params) + " elements, " + n(2 * params) + " bytes\n"), out);
        assertTrue(out.contains("RoPE           theta 10000, no scaling\n"), out);
        assertTrue(out.contains("Shards         1: model.safetensors\n"), out);
        assertTrue(out.contains("Bytes          47,680 (47.68 kB)\n"), out);
        assertTrue(out.contains("Quantization   none\n"), out);
    }

    @Test void shardedF16Qwen2WithTiedEmbeddings() throws Exception {
        ObjectNode cfg = SyntheticModel.config(Architecture.QWEN2, 32, 64, 2, 4, 2, 50);
        cfg.put("tie_word_embeddings", true);
        Path dir = SyntheticModel.write(tmp.resolve("qwen"), cfg, DType.F16, 2, 10_000);
        // head_dim 8; q 32x32 + bias 32, k and v 16x32 + bias 16 each, o 32x32, mlp 3x64x32, norms 2x32
        long perLayer = (32 * 32 + 32) + 2 * (16 * 32 + 16) + 32 * 32 + 3 * 64 * 32 + 2 * 32;
        long params = 2 * perLayer + 50 * 32 + 32; // tied: one 50x32 embedding, no lm_head
        assertEquals(20_320, params);

        JsonNode r = json(dir, "--tensors");
        assertEquals(params, r.path("parameters").asLong());
        assertEquals(2 * params, r.path("dtypes").path("F16").path("bytes").asLong());
        assertTrue(r.path("tie_word_embeddings").asBoolean());
        List<String> shardFiles;
        try (Stream<Path> s = Files.list(dir)) {
            shardFiles = s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(shardFiles.size() > 1, shardFiles.toString());
        List<String> reported = new ArrayList<>();
        r.path("shards").forEach(s -> reported.add(s.asText()));
        assertEquals(shardFiles, reported);
        assertEquals(String.format("model-00001-of-%05d.safetensors", shardFiles.size()), reported.get(0));

        JsonNode tensors = r.path("tensors");
        assertEquals(r.path("tensor_count").asInt(), tensors.size());
        boolean sawKBias = false;
        for (JsonNode t : tensors) {
            assertFalse(t.path("name").asText().equals("lm_head.weight"));
            if (t.path("name").asText().equals("model.layers.1.self_attn.k_proj.bias")) {
                sawKBias = true;
                assertEquals("F16", t.path("dtype").asText());
                assertEquals("[16]", t.path("shape").toString());
                assertTrue(shardFiles.contains(t.path("shard").asText()));
            }
        }
        assertTrue(sawKBias);

        CliRun text = zq("inspect", "--tensors", dir.toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("Embeddings     tied (lm_head = embed_tokens)\n"), text.out());
        assertTrue(shardFiles.size() > 3, "40,640 bytes in shards of at most 10,000");
        assertTrue(text.out().contains("Shards         " + shardFiles.size() + ": " + shardFiles.get(0) + " ... "
                + shardFiles.get(shardFiles.size() - 1) + "\n"), text.out());
        assertTrue(text.out().contains("Heads          4 query, 2 KV (GQA, 2 query heads per KV head), head_dim 8\n"), text.out());
        assertTrue(text.out().lines().anyMatch(l -> l.startsWith("model.layers.1.self_attn.k_proj.bias") && l.contains(" F16 ")
                && l.contains("[16]") && l.endsWith(".safetensors")), text.out());
    }

    @Test void zhinaoGqa() throws Exception {
        ObjectNode cfg = SyntheticModel.config(Architecture.ZHINAO, 64, 128, 2, 8, 2, 100);
        cfg.put("rope_theta", 1_000_000.0).put("max_position_embeddings", 36000);
        Path dir = SyntheticModel.write(tmp.resolve("zhinao"), cfg, DType.BF16, 3);
        // fused qkv: (8 + 2*2) heads of 8 = 96 rows, with bias; o 64x64; mlp 3x128x64; two norms
        long perLayer = 96 * 64 + 96 + 64 * 64 + 3 * 128 * 64 + 2 * 64;
        long params = 2 * perLayer + 2 * 100 * 64 + 64;
        assertEquals(82_944, params);

        JsonNode r = json(dir);
        assertEquals("zhinao", r.path("architecture").asText());
        assertEquals(2, r.path("num_key_value_heads").asInt());
        assertEquals(params, r.path("parameters").asLong());
        assertEquals(36000, r.path("max_position_embeddings").asInt());
        CliRun text = zq("inspect", dir.toString());
        assertTrue(text.out().contains("RoPE           theta 1000000, no scaling\n"), text.out());
        assertTrue(text.out().contains("Max positions  36,000\n"), text.out());
        assertTrue(text.out().contains("Parameters     82,944\n"), text.out());
    }

    @Test void gptqReportsDenseEquivalentAndStoredElements() throws Exception {
        // Llama hidden 32, intermediate 64, 1 layer, 4 heads, vocab 50, GPTQ 4-bit group 16
        ObjectNode cfg = SyntheticModel.config(Architecture.LLAMA, 32, 64, 1, 4, 4, 50);
        cfg.putObject("quantization_config").put("quant_method", "gptq").put("bits", 4).put("group_size", 16)
                .put("desc_act", false).put("sym", true).put("checkpoint_format", "gptq");
        Path dir = Files.createDirectories(tmp.resolve("gptq"));
        ModelConfig.write(cfg, dir.resolve("config.json"));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, long[]> e : ModelLayout.of(ModelConfig.of(cfg, dir)).expectedTensors().entrySet()) {
            long numel = 1;
            for (long d : e.getValue()) numel *= d;
            String name = e.getKey();
            boolean packed = name.endsWith(".qweight") || name.endsWith(".qzeros") || name.endsWith(".g_idx");
            entries.add(packed
                    ? new SafetensorsWriter.Entry(name, DType.I32, e.getValue(), TensorData.ints(new int[(int) numel]))
                    : new SafetensorsWriter.Entry(name, DType.F16, e.getValue(), TensorData.floats(new float[(int) numel], DType.F16)));
        }
        ShardedWriter.write(dir, SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);

        long dense = 2 * 50 * 32 + (4 * 32 * 32 + 3 * 64 * 32 + 2 * 32) + 32;   // 13,536
        // stored per Linear: qweight [in/8, out], qzeros [in/16, out/8], scales [in/16, out], g_idx [in]
        long in32out32 = 4 * 32 + 2 * 4 + 2 * 32 + 32;                        // q, k, v, o: 232 each
        long in32out64 = 4 * 64 + 2 * 8 + 2 * 64 + 32;                        // gate, up: 432 each
        long in64out32 = 8 * 32 + 4 * 4 + 4 * 32 + 64;                        // down: 464
        long packedElements = 4 * in32out32 + 2 * in32out64 + in64out32;
        long f16Elements = 2 * 50 * 32 + 3 * 32                                 // embeddings, norms
                + 4 * (2 * 32) + 2 * (2 * 64) + 4 * 32;                         // scales
        long i32Elements = packedElements - (4 * (2 * 32) + 2 * (2 * 64) + 4 * 32);
        assertEquals(13_536, dense);

        JsonNode r = json(dir);
        assertEquals(dense, r.path("parameters").asLong());
        assertEquals("dense-equivalent", r.path("parameters_counted_as").asText());
        assertEquals(2 * 50 * 32 + 3 * 32 + packedElements, r.path("stored_elements").asLong());
        assertEquals(f16Elements, r.path("dtypes").path("F16").path("elements").asLong());
        assertEquals(i32Elements, r.path("dtypes").path("I32").path("elements").asLong());
        assertEquals(21, r.path("dtypes").path("I32").path("tensors").asInt());
        assertEquals(2 * f16Elements + 4 * i32Elements, r.path("bytes").asLong());
        assertEquals(16, r.path("quantization").path("group_size").asInt());

        CliRun text = zq("inspect", dir.toString());
        assertTrue(text.out().contains("Parameters     13,536 dense-equivalent (each GPTQ Linear counted as out x in); "
                + n(2 * 50 * 32 + 3 * 32 + packedElements) + " elements stored\n"), text.out());
        assertTrue(text.out().contains("Quantization   GPTQ 4-bit, group_size 16, desc_act false, sym true, checkpoint_format gptq\n"), text.out());
    }

    @Test void badInputIsOneLineAndExitTwo() throws Exception {
        Path missing = tmp.resolve("nope");
        CliRun r = zq("inspect", missing.toString());
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals("zq: " + missing + ": not a model folder\n", r.err());
        assertEquals("", r.out());

        // a checkpoint whose config says 2 KV heads but whose k_proj has 4 heads' worth of rows
        ObjectNode cfg = SyntheticModel.config(Architecture.LLAMA, 32, 64, 1, 4, 4, 50);
        Path dir = SyntheticModel.write(tmp.resolve("mha"), cfg, DType.BF16, 4);
        cfg.put("num_key_value_heads", 2);
        ModelConfig.write(cfg, dir.resolve("config.json"));
        CliRun bad = zq("inspect", dir.toString(), "--json");
        assertEquals(Main.EXIT_BAD_INPUT, bad.code());
        assertEquals("zq: " + dir + ": tensor 'model.layers.0.self_attn.k_proj.weight' has shape [32, 32], config implies [16, 32]; "
                + "tensor 'model.layers.0.self_attn.v_proj.weight' has shape [32, 32], config implies [16, 32]\n", bad.err());
        assertEquals("", bad.out());

        CliRun noArgs = zq("inspect");
        assertEquals(Main.EXIT_BAD_INPUT, noArgs.code());
        assertTrue(noArgs.err().startsWith("zq: Missing required parameter: 'MODEL_DIR|FILE.gguf'"), noArgs.err());
    }
}
