package zq.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.TensorData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointConverterTest {
    @TempDir Path tmp;

    private Path zhinao(String name, DType dtype, Map<String, float[]> overrides) throws Exception {
        return TinyCheckpoint.write(tmp.resolve(name), TinyCheckpoint.zhinao(64, 8, 2), dtype, 7, overrides);
    }

    private static void assertOnlyKeysChanged(JsonNode before, JsonNode after, List<String> changed) {
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        before.fieldNames().forEachRemaining(a::add);
        after.fieldNames().forEachRemaining(b::add);
        assertEquals(a, b, "same keys in the same order");
        for (Iterator<String> it = before.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!changed.contains(k)) assertEquals(before.get(k), after.get(k), k);
        }
    }

    @Test void ropeBaseChangesOnlyRopeThetaAndCopiesEveryTensorByteForByte() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        ConvertResult r = CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none().withRopeBase(5e7).withMaxPositionEmbeddings(32768));
        ObjectNode before = ModelConfig.read(in.resolve("config.json")).json();
        ObjectNode after = ModelConfig.read(tmp.resolve("o/config.json")).json();
        assertEquals(5e7, after.get("rope_theta").asDouble());
        assertEquals(32768, after.get("max_position_embeddings").asInt());
        assertOnlyKeysChanged(before, after, List.of("rope_theta", "max_position_embeddings"));
        try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(tmp.resolve("o"))) {
            assertEquals(new ArrayList<>(a.tensorNames()), new ArrayList<>(b.tensorNames()));
            for (String n : a.tensorNames()) assertArrayEquals(TinyCheckpoint.bytes(a, n), TinyCheckpoint.bytes(b, n), n);
            assertEquals(a.tensorNames().size(), r.tensors());
        }
    }

    @Test void ropeScalingBlocksCarryTheKeysEachTypeRequires() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        CheckpointConverter.convert(in, tmp.resolve("y"), ConvertOptions.none()
                .withRopeScaling(RopeScalingOption.parse("yarn:factor=4,original_max_position_embeddings=32768")));
        JsonNode y = ModelConfig.read(tmp.resolve("y/config.json")).json().get("rope_scaling");
        assertEquals("{\"rope_type\":\"yarn\",\"type\":\"yarn\",\"factor\":4.0,\"original_max_position_embeddings\":32768}", y.toString());
        // the formats module parses it back with the same meaning
        assertEquals(4.0, ModelConfig.read(tmp.resolve("y/config.json")).ropeScaling().factor());

        CheckpointConverter.convert(tmp.resolve("y"), tmp.resolve("l"), ConvertOptions.none().withRopeScaling(RopeScalingOption.parse(
                "llama3:factor=8,low_freq_factor=1,high_freq_factor=4,original_max_position_embeddings=8192")));
        ModelConfig l = ModelConfig.read(tmp.resolve("l/config.json"));
        assertEquals("llama3", l.ropeScaling().type());
        assertEquals(4.0, l.ropeScaling().number("high_freq_factor", 0));
        assertEquals(8192, l.json().get("rope_scaling").get("original_max_position_embeddings").asInt());

        CheckpointConverter.convert(tmp.resolve("l"), tmp.resolve("n"), ConvertOptions.none().withoutRopeScaling());
        assertTrue(ModelConfig.read(tmp.resolve("n/config.json")).json().get("rope_scaling").isNull());
    }

    @Test void transformersV5RopeParametersAreEditedInPlace() throws Exception {
        ObjectNode cfg = TinyCheckpoint.zhinao(64, 8, 2);
        cfg.remove("rope_theta");
        cfg.remove("rope_scaling");
        cfg.putObject("rope_parameters").put("rope_theta", 10000.0).put("rope_type", "default");
        Path in = TinyCheckpoint.write(tmp.resolve("v5"), cfg, DType.BF16, 1, Map.of());
        CheckpointConverter.convert(in, tmp.resolve("s"), ConvertOptions.none().withRopeBase(1e6)
                .withRopeScaling(RopeScalingOption.parse("linear:factor=2")));
        ModelConfig s = ModelConfig.read(tmp.resolve("s/config.json"));
        assertEquals("{\"rope_type\":\"linear\",\"factor\":2.0,\"rope_theta\":1000000.0}", s.json().get("rope_parameters").toString());
        assertFalse(s.json().has("rope_theta") || s.json().has("rope_scaling"), "no legacy keys added");
        assertEquals(1e6, s.ropeTheta());
        assertEquals("linear", s.ropeScaling().type());
        CheckpointConverter.convert(tmp.resolve("s"), tmp.resolve("d"), ConvertOptions.none().withoutRopeScaling());
        ModelConfig d = ModelConfig.read(tmp.resolve("d/config.json"));
        assertEquals("{\"rope_type\":\"default\",\"rope_theta\":1000000.0}", d.json().get("rope_parameters").toString());
        assertEquals(null, d.ropeScaling());
    }

    @Test void dtypeChangesFloatTensorsAndTorchDtype() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        CheckpointConverter.convert(in, tmp.resolve("f32"), ConvertOptions.none().withDtype(DType.F32));
        assertEquals("float32", ModelConfig.read(tmp.resolve("f32/config.json")).torchDtype());
        try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(tmp.resolve("f32"))) {
            for (String n : a.tensorNames()) {
                assertEquals(DType.F32, b.info(n).dtype(), n);
                byte[] x = TinyCheckpoint.bytes(a, n), y = TinyCheckpoint.bytes(b, n);
                // bf16 is the upper half of an f32: widening appends two zero bytes (little-endian: in front)
                for (int i = 0; i < x.length / 2; i++) {
                    assertEquals(0, TinyCheckpoint.uint16(y, 2 * i), n);
                    assertEquals(TinyCheckpoint.uint16(x, i), TinyCheckpoint.uint16(y, 2 * i + 1), n);
                }
            }
        }
    }

    @Test void f16OverflowNamesTheTensorAndCounts() throws Exception {
        float[] norm = new float[64];
        java.util.Arrays.fill(norm, 1f);
        norm[3] = 70000f;
        norm[10] = -1e9f;
        norm[20] = 65504f; // the largest half: fits
        String name = "model.layers.1.post_attention_layernorm.weight";
        Path in = zhinao("z", DType.F32, Map.of(name, norm));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none().withDtype(DType.F16)));
        assertTrue(e.getMessage().contains("tensor '" + name + "': 2 values overflow F16"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o")));
        try (var s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains("partial")), "temporary folder removed");
        }

        CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none().withDtype(DType.F16).withAllowOverflow(true));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("o"))) {
            byte[] b = TinyCheckpoint.bytes(c, name);
            assertEquals(0x7C00, TinyCheckpoint.uint16(b, 3));
            assertEquals(0xFC00, TinyCheckpoint.uint16(b, 10));
            assertEquals(0x7BFF, TinyCheckpoint.uint16(b, 20));
            assertEquals(0x3C00, TinyCheckpoint.uint16(b, 0));
        }
    }

    @Test void gptqRopeAndDtypeChangeOnlyConfigAndTensorsOutsideQuantizedLinears() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        cfg.with("quantization_config").put("model_file_base_name", "gptq_model-4bit-32g");
        Path in = TinyCheckpoint.write(tmp.resolve("g"), cfg, DType.F16, 3, Map.of());
        Files.writeString(in.resolve("quantize_config.json"), "{\"bits\":4,\"model_file_base_name\":\"gptq_model-4bit-32g\"}");
        CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none().withDtype(DType.BF16).withRopeBase(1e6));
        try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(tmp.resolve("o"))) {
            assertEquals(1e6, b.config().ropeTheta());
            ObjectNode q0 = (ObjectNode) a.config().json().get("quantization_config"), q1 = (ObjectNode) b.config().json().get("quantization_config");
            assertOnlyKeysChanged(q0, q1, List.of("model_file_base_name"));
            for (String n : a.tensorNames()) {
                boolean quantizedLinear = n.contains("_proj.");
                DType expected = quantizedLinear ? a.info(n).dtype() : DType.BF16;
                assertEquals(expected, b.info(n).dtype(), n);
                if (quantizedLinear) assertArrayEquals(TinyCheckpoint.bytes(a, n), TinyCheckpoint.bytes(b, n), n);
            }
            assertEquals(DType.F16, b.info("model.layers.0.self_attn.qkv_proj.scales").dtype());
            assertEquals(DType.I32, b.info("model.layers.0.mlp.up_proj.qweight").dtype());
            assertEquals("bfloat16", b.config().torchDtype());
            assertEquals("model", b.config().json().get("quantization_config").get("model_file_base_name").asText());
        }
        JsonNode qc = new ObjectMapper().readTree(tmp.resolve("o/quantize_config.json").toFile());
        assertEquals("model", qc.get("model_file_base_name").asText());
    }

    @Test void reshardsWithHfNamesAndGivesOversizedTensorsTheirOwnShard() throws Exception {
        Path in = zhinao("z", DType.F32, Map.of());
        // embed and lm_head are 40*64*4 = 10240 bytes, above the 8000-byte limit; layer tensors are smaller
        CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none().withMaxShardBytes(8000));
        JsonNode index = new ObjectMapper().readTree(tmp.resolve("o").resolve(ShardedWriter.INDEX_FILE).toFile());
        JsonNode map = index.get("weight_map");
        String embedShard = map.get("model.embed_tokens.weight").asText();
        assertTrue(embedShard.matches("model-00001-of-000\\d\\d\\.safetensors"), embedShard);
        long total = 0;
        try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(tmp.resolve("o"))) {
            for (String n : a.tensorNames()) {
                total += a.info(n).byteSize();
                assertArrayEquals(TinyCheckpoint.bytes(a, n), TinyCheckpoint.bytes(b, n), n);
            }
            assertEquals(1, b.fileOf("model.embed_tokens.weight").tensors().size(), "oversized tensor alone");
            assertEquals(1, b.fileOf("lm_head.weight").tensors().size(), "oversized tensor alone");
            for (var f : b.files()) {
                long size = f.tensors().stream().mapToLong(t -> t.byteSize()).sum();
                assertTrue(size <= 8000 || f.tensors().size() == 1, f.path() + " holds " + size + " bytes");
            }
        }
        assertEquals(total, index.get("metadata").get("total_size").asLong());
    }

    @Test void copiesCompanionFilesButNotOldWeightsOrHiddenEntries() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        Files.writeString(in.resolve("tokenizer_config.json"), "{\"auto_map\": {}}");
        Files.writeString(in.resolve("generation_config.json"), "{\"eos_token_id\": 158326}");
        Files.createDirectories(in.resolve("vocab"));
        Files.writeString(in.resolve("vocab/360.tiktoken"), "IQ== 0\n");
        Files.writeString(in.resolve("pytorch_model.bin"), "old weights");
        Files.createDirectories(in.resolve(".git"));
        Files.writeString(in.resolve(".git/HEAD"), "ref");
        CheckpointConverter.convert(in, tmp.resolve("o"), ConvertOptions.none());
        Path o = tmp.resolve("o");
        assertEquals("{\"eos_token_id\": 158326}", Files.readString(o.resolve("generation_config.json")));
        assertEquals("{\"auto_map\": {}}", Files.readString(o.resolve("tokenizer_config.json")));
        assertEquals("IQ== 0\n", Files.readString(o.resolve("vocab/360.tiktoken")));
        assertFalse(Files.exists(o.resolve("pytorch_model.bin")));
        assertFalse(Files.exists(o.resolve(".git")));
    }

    @Test void dropsRotaryCachesThatHoldTheOldBase() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        Path withCache = tmp.resolve("zc");
        try (Checkpoint c = Checkpoint.open(in)) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : c.tensorNames()) {
                entries.add(new SafetensorsWriter.Entry(n, c.info(n).dtype(), c.info(n).shape(), TensorData.copyOf(c.fileOf(n), c.info(n))));
            }
            entries.add(new SafetensorsWriter.Entry("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, new long[]{4},
                    TensorData.floats(new float[]{1, 0.1f, 0.01f, 0.001f}, DType.F32)));
            Files.createDirectories(withCache);
            SafetensorsWriter.write(withCache.resolve("model.safetensors"), SafetensorsWriter.defaultMetadata(), entries);
            Files.copy(in.resolve("config.json"), withCache.resolve("config.json"));
        }
        CheckpointConverter.convert(withCache, tmp.resolve("o"), ConvertOptions.none().withRopeBase(1e6));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("o"))) {
            assertFalse(c.has("model.layers.0.self_attn.rotary_emb.inv_freq"));
        }
    }

    @Test void refusesAnExistingOutputFolder() throws Exception {
        Path in = zhinao("z", DType.BF16, Map.of());
        Path out = Files.createDirectories(tmp.resolve("o"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CheckpointConverter.convert(in, out, ConvertOptions.none()));
        assertTrue(e.getMessage().contains("output folder already exists"), e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test void optionsRejectContradictionsAndNonTargetDtypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvertOptions.none().withRopeScaling(RopeScalingOption.parse("linear:factor=2")).withoutRopeScaling());
        assertTrue(e.getMessage().contains("contradict"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvertOptions.none().withDtype(DType.F64));
        assertTrue(e.getMessage().contains("--dtype float64 is not supported"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvertOptions.none().withRopeBase(-1));
        assertTrue(e.getMessage().contains("--rope-base must be a positive number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvertOptions.none().withMaxPositionEmbeddings(0));
        assertTrue(e.getMessage().contains("--max-position-embeddings must be positive"), e.getMessage());
    }
}
