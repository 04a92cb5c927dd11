package zq.gptq.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.SafetensorsFile;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.SyntheticModel;
import zq.formats.TensorData;
import zq.formats.TensorInfo;
import zq.gptq.QuantizedLinear;
import zq.gptq.pipeline.PipelineFixtures;
import zq.gptq.pipeline.PipelineFixtures.Capture;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.ProgressListener;
import zq.gptq.pipeline.QuantizeMethod;
import zq.gptq.pipeline.QuantizedLayer;
import zq.runtime.LayerWeightsLoader;

/** The exported folder against docs/gptq.md ("The AutoGPTQ layout", "Files and configs"): names, dtypes, shapes, configs, packing and the streaming guarantees. */
class GptqExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    private record Spec(String dtype, long... shape) {}

    /** Hand-written from docs/gptq.md, "The AutoGPTQ layout" for hidden 64, intermediate 128, 4 heads / 2 KV heads of 16, vocab 96, group size 32. */
    private static Map<String, Spec> expectedLlamaTensors(int layers) {
        Map<String, Spec> m = new TreeMap<>();
        m.put("model.embed_tokens.weight", new Spec("F16", 96, 64));
        m.put("model.norm.weight", new Spec("F16", 64));
        m.put("lm_head.weight", new Spec("F16", 96, 64));
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new Spec("F16", 64));
            m.put(p + "post_attention_layernorm.weight", new Spec("F16", 64));
            // name, in, out: qweight [in/8, out], qzeros [in/32, out/8], scales [in/32, out], g_idx [in]
            Object[][] linears = {{"self_attn.q_proj", 64, 64}, {"self_attn.k_proj", 64, 32}, {"self_attn.v_proj", 64, 32},
                {"self_attn.o_proj", 64, 64}, {"mlp.gate_proj", 64, 128}, {"mlp.up_proj", 64, 128}, {"mlp.down_proj", 128, 64}};
            for (Object[] l : linears) {
                int in = (Integer) l[1];
                int out = (Integer) l[2];
                m.put(p + l[0] + ".qweight", new Spec("I32", in / 8, out));
                m.put(p + l[0] + ".qzeros", new Spec("I32", in / 32, out / 8));
                m.put(p + l[0] + ".scales", new Spec("F16", in / 32, out));
                m.put(p + l[0] + ".g_idx", new Spec("I32", in));
            }
        }
        return m;
    }

    private static Map<String, Spec> header(Path file) {
        Map<String, Spec> m = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors()) m.put(t.name(), new Spec(t.dtype().safetensorsName(), t.shape()));
        }
        return m;
    }

    private static void assertSameTensors(Map<String, Spec> want, Map<String, Spec> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String name : want.keySet()) {
            assertEquals(want.get(name).dtype(), got.get(name).dtype(), name);
            assertArrayEquals(want.get(name).shape(), got.get(name).shape(), name);
        }
    }

    private Path llama(String name, int layers) throws IOException {
        Path dir = PipelineFixtures.model(tmp.resolve(name), Architecture.LLAMA, layers, 5);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"stand-in\": true}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": false}");
        Files.createDirectories(dir.resolve("vocab"));
        Files.writeString(dir.resolve("vocab/360.tiktoken"), "stand-in vocabulary");
        Files.createDirectories(dir.resolve("original"));
        Files.writeString(dir.resolve("original/consolidated.00.pth"), "not copied");
        Files.writeString(dir.resolve("pytorch_model.bin"), "not copied");
        return dir;
    }

    private static PipelineOptions gptqOptions(int groupSize, boolean sym) {
        return PipelineFixtures.options(QuantizeMethod.GPTQ, PipelineFixtures.gptq(groupSize, false, sym), true);
    }

    @Test
    void llamaExportHasTheAutoGptqLayoutAndConfigs() throws IOException {
        Path in = llama("in", 2);
        Path out = tmp.resolve("out");
        QuantizeResult r = GptqExporter.run(QuantizeRequest.of(in, out, gptqOptions(32, true), PipelineFixtures.calibration()),
                ProgressListener.NONE);

        assertEquals(List.of("model.safetensors"), r.weightFiles());
        Path weights = out.resolve("model.safetensors");
        assertSameTensors(expectedLlamaTensors(2), header(weights));
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            assertEquals("pt", f.metadata().get("format"), "transformers refuses files without format=pt");
        }
        try (Checkpoint ck = Checkpoint.open(out)) { // verify(): tensors exactly as the written config implies
            for (int i = 0; i < 2; i++) {
                for (String lin : List.of("self_attn.q_proj", "self_attn.o_proj", "mlp.up_proj", "mlp.down_proj")) {
                    String p = "model.layers." + i + "." + lin;
                    for (int word : ck.ints(p + ".qzeros")) assertEquals(0x77777777, word, p + ": sym zeros are 8, stored as 7");
                    int[] gIdx = ck.ints(p + ".g_idx");
                    for (int j = 0; j < gIdx.length; j++) assertEquals(j / 32, gIdx[j], p + ".g_idx without act-order");
                }
            }
            // unquantised tensors: the bf16 input values as fp16 (exact for normal fp16 magnitudes)
            try (Checkpoint src = Checkpoint.open(in)) {
                for (String name : List.of("model.embed_tokens.weight", "model.layers.1.input_layernorm.weight", "lm_head.weight")) {
                    float[] a = src.floats(name);
                    float[] b = ck.floats(name);
                    for (int k = 0; k < a.length; k++) {
                        double tol = Math.abs(a[k]) >= 0x1p-14 ? 0 : 0x1p-24;
                        assertEquals(a[k], b[k], tol, name + "[" + k + "]");
                    }
                }
            }
        }

        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        JsonNode quantizeConfig = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertEquals(quantizeConfig, config.get("quantization_config"), "AutoGPTQ reads one, transformers/vLLM the other");
        assertEquals("float16", config.get("torch_dtype").asText());
        assertEquals("llama", config.get("model_type").asText(), "the rest of the config is kept");
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("quant_method", "gptq");
        want.put("checkpoint_format", "gptq");
        want.put("bits", 4);
        want.put("group_size", 32);
        want.put("desc_act", false);
        want.put("sym", true);
        want.put("static_groups", false);
        want.put("true_sequential", true);
        want.put("damp_percent", 0.01);
        want.put("model_file_base_name", "model");
        want.put("lm_head", false);
        for (Map.Entry<String, Object> e : want.entrySet()) {
            assertTrue(quantizeConfig.has(e.getKey()), e.getKey());
            assertEquals(JSON.valueToTree(e.getValue()), quantizeConfig.get(e.getKey()), e.getKey());
        }

        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("vocab/360.tiktoken")));
        assertEquals("{\"do_sample\": false}", Files.readString(out.resolve("generation_config.json")));
        assertFalse(Files.exists(out.resolve("original")));
        assertFalse(Files.exists(out.resolve("pytorch_model.bin")));
        assertEquals(List.of("generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab/360.tiktoken"),
                r.companionFiles());
        assertEquals(14, r.modules().size());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void checkpointDecodesToExactlyTheSolversFakeQuantizedWeights() throws IOException {
        Path in = llama("in", 2);
        Path out = tmp.resolve("out");
        Capture capture = new Capture();
        GptqExporter.run(QuantizeRequest.of(in, out, gptqOptions(32, true), PipelineFixtures.calibration()), capture);
        assertEquals(14, capture.linears.size());
        try (Checkpoint ck = Checkpoint.open(out)) {
            for (var ref : ck.layout().layers().stream().flatMap(l -> l.linears().stream()).toList()) {
                float[] decoded = LayerWeightsLoader.loadLinear(ck, ref).weight();
                assertArrayEquals(capture.linears.get(ref.prefix()).dequantized(), decoded, 0f, ref.prefix());
            }
        }
    }

    @Test
    void asymmetricGridIsWrittenAsGptqV2WithAWarning() throws IOException {
        Path in = llama("in", 1);
        Path out = tmp.resolve("out");
        Capture capture = new Capture();
        QuantizeResult r = GptqExporter.run(QuantizeRequest.of(in, out, gptqOptions(32, false), PipelineFixtures.calibration()), capture);
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("gptq_v2") && w.contains("AutoGPTQ will NOT load")
                && w.contains("GPTQModel") && w.contains("older vLLM releases ignore checkpoint_format")), r.warnings().toString());
        JsonNode q = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertEquals("gptq_v2", q.get("checkpoint_format").asText());
        assertFalse(q.get("sym").asBoolean());
        assertEquals(q, JSON.readTree(out.resolve("config.json").toFile()).get("quantization_config"));
        try (Checkpoint ck = Checkpoint.open(out)) {
            String p = "model.layers.0.mlp.down_proj";
            QuantizedLinear want = capture.linears.get(p);
            // v2 stores each zero point as it is: nibble j of word (g, c) is the zero of output column 8c + j
            int[] qzeros = ck.ints(p + ".qzeros");
            for (int g = 0; g < want.groups(); g++) {
                for (int n = 0; n < want.outFeatures(); n++) {
                    int nibble = (qzeros[g * (want.outFeatures() / 8) + n / 8] >>> (4 * (n % 8))) & 0xF;
                    assertEquals(want.zeros()[g * want.outFeatures() + n], nibble, "group " + g + " column " + n);
                }
            }
            assertTrue(Arrays.stream(want.zeros()).anyMatch(z -> z != 8), "an asymmetric grid has zero points other than 8");
            assertArrayEquals(want.dequantized(), LayerWeightsLoader.loadLinear(ck, ck.layout().layers().get(0).down()).weight(), 0f);
        }
    }

    @Test
    void zhinaoFusedQkvAndQwen2BiasesAreQuantizedAndKept() throws IOException {
        for (Architecture arch : List.of(Architecture.ZHINAO, Architecture.QWEN2)) {
            Path in = PipelineFixtures.model(tmp.resolve(arch + "-in"), arch, 1, 8);
            Path out = tmp.resolve(arch + "-out");
            GptqExporter.run(QuantizeRequest.of(in, out, gptqOptions(32, true), PipelineFixtures.calibration()), ProgressListener.NONE);
            Map<String, Spec> h = header(out.resolve("model.safetensors"));
            if (arch == Architecture.ZHINAO) {
                // fused width (heads + 2 kv heads) · head_dim = (4 + 4) · 16 = 128
                String p = "model.layers.0.self_attn.qkv_proj";
                assertArrayEquals(new long[]{8, 128}, h.get(p + ".qweight").shape());
                assertArrayEquals(new long[]{2, 16}, h.get(p + ".qzeros").shape());
                assertArrayEquals(new long[]{2, 128}, h.get(p + ".scales").shape());
                assertArrayEquals(new long[]{128}, h.get(p + ".bias").shape());
                assertEquals("F16", h.get(p + ".bias").dtype());
                assertNull(h.get("model.layers.0.self_attn.q_proj.qweight"));
            } else {
                for (String lin : List.of("q_proj", "k_proj", "v_proj")) {
                    assertEquals("F16", h.get("model.layers.0.self_attn." + lin + ".bias").dtype(), lin);
                }
                assertNull(h.get("model.layers.0.self_attn.o_proj.bias"), "qwen2 has no o_proj bias");
            }
            try (Checkpoint src = Checkpoint.open(in); Checkpoint ck = Checkpoint.open(out)) {
                for (String name : ck.tensorNames()) {
                    if (!name.endsWith(".bias")) continue;
                    float[] a = src.floats(name);
                    float[] b = ck.floats(name);
                    for (int k = 0; k < a.length; k++) assertEquals(HalfFloats.f16ToFloat(HalfFloats.floatToF16(a[k])), b[k], 0f, name);
                }
            }
        }
    }

    @Test
    void largeModelsAreShardedWithAnIndex() throws IOException {
        Path in = llama("in", 2);
        Path out = tmp.resolve("out");
        QuantizeRequest req = new QuantizeRequest(in, out, PipelineFixtures.options(QuantizeMethod.RTN,
                PipelineFixtures.gptq(32, false, true), true), null, 20_000);
        QuantizeResult r = GptqExporter.run(req, ProgressListener.NONE);
        assertTrue(r.weightFiles().size() > 2, r.weightFiles().toString());
        assertEquals(ShardedWriter.INDEX_FILE, r.weightFiles().get(r.weightFiles().size() - 1));
        try (Checkpoint ck = Checkpoint.open(out)) {
            assertEquals(r.weightFiles().size() - 1, ck.files().size());
        }
    }

    @Test
    void aGroupSizeThatDoesNotDivideAnInputWidthIsRefusedBeforeAnyOutput() throws IOException {
        var cfg = SyntheticModel.config(Architecture.LLAMA, 64, 96, 1, 4, 2, PipelineFixtures.VOCAB);
        Path in = SyntheticModel.write(tmp.resolve("in"), cfg, DType.BF16, 1);
        Path out = tmp.resolve("out");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GptqExporter.run(
                QuantizeRequest.of(in, out, gptqOptions(64, true), PipelineFixtures.calibration()), ProgressListener.NONE));
        assertEquals("model.layers.0.mlp.down_proj: group_size 64 does not divide in_features 96", e.getMessage());
        assertEquals(List.of("in"), listNames(tmp));
    }

    @Test
    void anErrorMidRunLeavesNoOutputFolder() throws IOException {
        Path in = llama("in", 3);
        Path out = tmp.resolve("out");
        List<List<String>> duringLayer0 = new java.util.ArrayList<>();
        ProgressListener failing = new ProgressListener() {
            @Override public void layerDone(QuantizedLayer layer, Progress progress) {
                if (layer.index() == 0) {
                    try {
                        duringLayer0.add(listNames(tmp));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                if (layer.index() == 1) throw new IllegalStateException("injected failure after layer 1");
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GptqExporter.run(
                QuantizeRequest.of(in, out, gptqOptions(32, true), PipelineFixtures.calibration()), failing));
        assertEquals("injected failure after layer 1", e.getMessage());
        List<String> during = duringLayer0.get(0);
        assertEquals(2, during.size(), during.toString());
        assertTrue(during.get(0).startsWith(".out.partial-"), "while running, only the hidden partial folder exists: " + during);
        assertEquals(List.of("in"), listNames(tmp), "neither the target nor a .partial folder remains");
    }

    private static List<String> listNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void inputsThatCannotBeQuantizedAreRefusedClearly() throws IOException {
        Path in = llama("in", 1);
        Path once = tmp.resolve("once");
        PipelineOptions rtn = PipelineFixtures.options(QuantizeMethod.RTN, PipelineFixtures.gptq(32, false, true), true);
        GptqExporter.run(new QuantizeRequest(in, once, rtn, null, 1_000_000), ProgressListener.NONE);
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                () -> GptqExporter.run(QuantizeRequest.of(once, tmp.resolve("twice"), rtn, null), ProgressListener.NONE));
        assertTrue(again.getMessage().contains("already GPTQ-quantised"), again.getMessage());

        // gate/up have 100 output rows: qzeros packs 8 output columns per int32
        var cfg = SyntheticModel.config(Architecture.LLAMA, 64, 100, 1, 4, 2, PipelineFixtures.VOCAB);
        Path odd = SyntheticModel.write(tmp.resolve("odd"), cfg, DType.BF16, 1);
        PipelineOptions rowwise = PipelineFixtures.options(QuantizeMethod.RTN, PipelineFixtures.gptq(-1, false, true), true);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> GptqExporter.run(QuantizeRequest.of(odd, tmp.resolve("o"), rowwise, null), ProgressListener.NONE));
        assertEquals("model.layers.0.mlp.up_proj: shape [100, 64] cannot be packed: GPTQ Int4 needs in_features and "
                + "out_features that are multiples of 8", shape.getMessage());

        IllegalArgumentException shard = assertThrows(IllegalArgumentException.class,
                () -> new QuantizeRequest(in, tmp.resolve("s"), rtn, null, 0));
        assertEquals("max shard size must be positive, got 0", shard.getMessage());
    }

    @Test
    void aValueThatFp16CannotHoldIsAnErrorNamingTheTensor() throws IOException {
        Path dense = SyntheticModel.write(tmp.resolve("f32"), PipelineFixtures.config(Architecture.LLAMA, 1), DType.F32, 2);
        Path big = tmp.resolve("big");
        Files.createDirectories(big);
        List<SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
        try (Checkpoint ck = Checkpoint.open(dense)) {
            for (String name : ck.tensorNames()) {
                float[] v = ck.floats(name);
                if (name.equals("model.norm.weight")) v[3] = 1e5f;
                entries.add(new SafetensorsWriter.Entry(name, DType.F32, ck.info(name).shape(), TensorData.floats(v, DType.F32)));
            }
            ShardedWriter.write(big, SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            zq.formats.ModelConfig.write(ck.config().json(), big.resolve("config.json"));
        }
        PipelineOptions rtn = PipelineFixtures.options(QuantizeMethod.RTN, PipelineFixtures.gptq(32, false, true), true);
        zq.formats.CheckpointException e = assertThrows(zq.formats.CheckpointException.class,
                () -> GptqExporter.run(QuantizeRequest.of(big, tmp.resolve("out"), rtn, null), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("tensor 'model.norm.weight' holds 100000.0 at flat index 3"), e.getMessage());
        assertTrue(e.getMessage().contains("max 65504"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")));
    }
}
