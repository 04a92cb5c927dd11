package zq.formats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.TinyModels.entries;
import static zq.formats.TinyModels.floats;
import static zq.formats.TinyModels.replaced;
import static zq.formats.TinyModels.without;

class CheckpointTest {
    @TempDir Path tmp;

    private static final String NORM = "model.norm.weight";
    private static final String EMBED = "model.embed_tokens.weight";

    /** Llama, hidden 16, 2 heads of 8 (1 KV head), intermediate 32, 1 layer, vocab 10. */
    private static ObjectNode llama() { return SyntheticModel.config(Architecture.LLAMA, 16, 32, 1, 2, 1, 10); }

    private String rejected(Path dir, String startsWith, String what) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        String m = e.getMessage();
        assertTrue(m.startsWith(startsWith + ": "), "names " + startsWith + ": " + m);
        assertTrue(m.contains(what), "says '" + what + "': " + m);
        assertFalse(m.contains("\n"), m);
        return m;
    }

    /** Two hand-made shards (the norm alone in the second) and an index written as text. */
    private Path twoShards(String name, String indexWeightMap) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        ModelConfig.write(llama(), dir.resolve("config.json"));
        List<SafetensorsWriter.Entry> all = entries(llama(), DType.BF16);
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of(), without(all, NORM));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of(),
                List.of(floats(NORM, DType.BF16, new long[]{16}, 1f)));
        StringBuilder wm = new StringBuilder();
        for (SafetensorsWriter.Entry e : without(all, NORM)) wm.append("\"").append(e.name()).append("\": \"model-00001-of-00002.safetensors\", ");
        wm.append(indexWeightMap);
        Files.writeString(dir.resolve(ShardedWriter.INDEX_FILE),
                "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" + wm + "}}");
        return dir;
    }

    private Path index(Path dir) { return dir.resolve(ShardedWriter.INDEX_FILE); }

    @Test void handWrittenIndexOpens() throws Exception {
        Path dir = twoShards("ok", "\"" + NORM + "\": \"model-00002-of-00002.safetensors\"");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(2, c.files().size());
            assertEquals("model-00002-of-00002.safetensors", c.fileOf(NORM).path().getFileName().toString());
            float[] ones = new float[16];
            java.util.Arrays.fill(ones, 1f);
            assertArrayEquals(ones, c.floats(NORM));
        }
    }

    @Test void indexPointingOutsideTheFolder() throws Exception {
        // a valid file really exists there, so only the escape check can refuse it
        SafetensorsWriter.write(tmp.resolve("x.safetensors"), Map.of(), List.of(floats(NORM, DType.BF16, new long[]{16}, 1f)));
        Path up = twoShards("up", "\"" + NORM + "\": \"../x.safetensors\"");
        rejected(up, index(up).toString(),
                "shard name '../x.safetensors' for tensor '" + NORM + "' is not a file name inside the model folder");
        String abs = tmp.resolve("x.safetensors").toString();
        Path absolute = twoShards("abs", "\"" + NORM + "\": \"" + abs + "\"");
        rejected(absolute, index(absolute).toString(), "shard name '" + abs + "' for tensor '" + NORM + "' is not a file name");
    }

    @Test void missingShard() throws Exception {
        Path dir = twoShards("miss", "\"" + NORM + "\": \"model-00003-of-00002.safetensors\"");
        rejected(dir, index(dir).toString(), "shard 'model-00003-of-00002.safetensors' (for tensor '" + NORM + "') is missing");
    }

    @Test void tensorListedInIndexButNotInItsShard() throws Exception {
        Path dir = twoShards("ghost", "\"" + NORM + "\": \"model-00002-of-00002.safetensors\", "
                + "\"model.extra.weight\": \"model-00002-of-00002.safetensors\"");
        rejected(dir, index(dir).toString(),
                "tensor 'model.extra.weight' is listed in shard 'model-00002-of-00002.safetensors' but that shard does not contain it");
    }

    @Test void tensorListedInTheWrongShard() throws Exception {
        Path dir = twoShards("wrong", "\"" + NORM + "\": \"model-00002-of-00002.safetensors\"");
        String text = Files.readString(index(dir)).replace("\"" + EMBED + "\": \"model-00001-of-00002.safetensors\"",
                "\"" + EMBED + "\": \"model-00002-of-00002.safetensors\"");
        Files.writeString(index(dir), text);
        rejected(dir, index(dir).toString(),
                "tensor '" + EMBED + "' is listed in 'model-00002-of-00002.safetensors' but found in 'model-00001-of-00002.safetensors'");

        Path onlyFirst = twoShards("first", "\"" + NORM + "\": \"model-00001-of-00002.safetensors\"");
        // shard 2 is then not in the index at all, so the norm is looked for in shard 1 only
        rejected(onlyFirst, index(onlyFirst).toString(),
                "tensor '" + NORM + "' is listed in shard 'model-00001-of-00002.safetensors' but that shard does not contain it");
    }

    @Test void tensorInShardButNotInIndex() throws Exception {
        Path dir = twoShards("unlisted", "\"" + NORM + "\": \"model-00002-of-00002.safetensors\"");
        String text = Files.readString(index(dir)).replace("\"" + EMBED + "\": \"model-00001-of-00002.safetensors\", ", "");
        Files.writeString(index(dir), text);
        rejected(dir, index(dir).toString(),
                "tensor '" + EMBED + "' in shard 'model-00001-of-00002.safetensors' is not listed in the weight_map");
    }

    @Test void duplicateTensorAcrossShards() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("dup"));
        ModelConfig.write(llama(), dir.resolve("config.json"));
        SafetensorsWriter.write(dir.resolve("a.safetensors"), Map.of(), entries(llama(), DType.BF16));
        SafetensorsWriter.write(dir.resolve("b.safetensors"), Map.of(), List.of(floats(NORM, DType.BF16, new long[]{16}, 1f)));
        rejected(dir, dir.toString(), "tensor '" + NORM + "' appears in both a.safetensors and b.safetensors");
    }

    @Test void badShardFileIsNamedThroughTheCheckpoint() throws Exception {
        Path dir = TinyModels.write(tmp.resolve("trunc"), llama(), entries(llama(), DType.BF16), Long.MAX_VALUE);
        Path f = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 2));
        rejected(dir, f.toString(), "truncated file");
    }

    @Test void configProblemsNameConfigJson() throws Exception {
        ObjectNode noVocab = llama();
        noVocab.remove("vocab_size");
        Path a = TinyModels.write(tmp.resolve("novocab"), noVocab, entries(llama(), DType.BF16), Long.MAX_VALUE);
        rejected(a, a.resolve("config.json").toString(), "config is missing required field 'vocab_size'");

        ObjectNode mixtral = llama();
        mixtral.put("model_type", "mixtral").putArray("architectures").add("MixtralForCausalLM");
        Path b = TinyModels.write(tmp.resolve("mixtral"), mixtral, entries(llama(), DType.BF16), Long.MAX_VALUE);
        rejected(b, b.resolve("config.json").toString(), "architecture not supported (model_type 'mixtral'");

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        ModelConfig.write(llama(), empty.resolve("config.json"));
        rejected(empty, empty.toString(), "no .safetensors files and no model.safetensors.index.json");
        rejected(tmp.resolve("nowhere"), tmp.resolve("nowhere").toString(), "not a model folder");
    }

    @Test void nanWeightIsNamed() throws Exception {
        String q = "model.layers.0.self_attn.q_proj.weight";
        float[] v = new float[16 * 16];
        v[37] = Float.NaN;
        var entries = replaced(entries(llama(), DType.F32),
                new SafetensorsWriter.Entry(q, DType.F32, new long[]{16, 16}, TensorData.floats(v, DType.F32)));
        Path dir = TinyModels.write(tmp.resolve("nan"), llama(), entries, Long.MAX_VALUE);
        try (Checkpoint c = Checkpoint.open(dir)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.floats(q));
            assertEquals(dir.resolve("model.safetensors") + ": tensor '" + q + "' has a non-finite value (NaN) at flat index 37",
                    e.getMessage());
            assertEquals(0.5f, c.floats(NORM)[3]);
        }
    }

    @Test void verifyNamesTheMissingTensor() throws Exception {
        String gate = "model.layers.0.mlp.gate_proj.weight";
        Path dir = TinyModels.write(tmp.resolve("m"), llama(), without(entries(llama(), DType.BF16), gate), Long.MAX_VALUE);
        String m = rejected(dir, dir.toString(), "tensor '" + gate + "' is missing (expected shape [32, 16])");
        assertFalse(m.contains("more problems"), m);
    }

    @Test void verifyNamesTheWrongShape() throws Exception {
        // k_proj of a GQA layer: 1 KV head of 8 -> [8, 16]; an MHA-shaped [16, 16] is wrong
        String k = "model.layers.0.self_attn.k_proj.weight";
        var e = replaced(entries(llama(), DType.BF16), floats(k, DType.BF16, new long[]{16, 16}, 0f));
        Path dir = TinyModels.write(tmp.resolve("s"), llama(), e, Long.MAX_VALUE);
        rejected(dir, dir.toString(), "tensor '" + k + "' has shape [16, 16], config implies [8, 16]");
    }

    @Test void verifyNamesAWrongDtypeAndUnexpectedTensors() throws Exception {
        var e = replaced(entries(llama(), DType.BF16), TinyModels.ints(NORM, new long[]{16}));
        e.add(floats("model.layers.0.self_attn.q_proj.bias", DType.BF16, new long[]{16}, 0f));
        Path dir = TinyModels.write(tmp.resolve("d"), llama(), e, Long.MAX_VALUE);
        rejected(dir, dir.toString(), "tensor '" + NORM + "' has dtype I32, expected a floating-point dtype; "
                + "unexpected tensor 'model.layers.0.self_attn.q_proj.bias'");
    }

    @Test void verifyCountsProblemsBeyondTheFirstFew() throws Exception {
        var e = entries(llama(), DType.BF16);
        for (String p : List.of("q", "k", "v", "o")) e = without(e, "model.layers.0.self_attn." + p + "_proj.weight");
        Path dir = TinyModels.write(tmp.resolve("many"), llama(), e, Long.MAX_VALUE);
        String m = rejected(dir, dir.toString(), "tensor 'model.layers.0.self_attn.q_proj.weight' is missing");
        assertTrue(m.endsWith("(and 1 more problems)"), m);
        try (Checkpoint c = Checkpoint.openUnverified(dir)) {
            assertFalse(c.has("model.layers.0.self_attn.q_proj.weight"));
        }
    }

    @Test void rotaryCachesAreIgnored() throws Exception {
        var e = entries(llama(), DType.BF16);
        e.add(floats("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, new long[]{4}, 1f));
        Path dir = TinyModels.write(tmp.resolve("rot"), llama(), e, Long.MAX_VALUE);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertTrue(c.has("model.layers.0.self_attn.rotary_emb.inv_freq"));
        }
    }

    @Test void gptqCheckpointVerifiesPackedShapes() throws Exception {
        // hidden 16 -> qweight [16/8, out], group 8 -> 2 groups, qzeros [2, out/8], scales [2, out], g_idx [16]
        ObjectNode cfg = llama();
        cfg.putObject("quantization_config").put("quant_method", "gptq").put("bits", 4).put("group_size", 8)
                .put("desc_act", false).put("sym", true);
        Path ok = TinyModels.write(tmp.resolve("gptq"), cfg, entries(cfg, DType.F16), Long.MAX_VALUE);
        try (Checkpoint c = Checkpoint.open(ok)) {
            assertArrayEquals(new long[]{2, 8}, c.info("model.layers.0.self_attn.k_proj.qweight").shape());
            assertArrayEquals(new long[]{2, 1}, c.info("model.layers.0.self_attn.k_proj.qzeros").shape());
            assertArrayEquals(new long[]{2, 8}, c.info("model.layers.0.self_attn.k_proj.scales").shape());
            assertArrayEquals(new long[]{32 / 8, 16}, c.info("model.layers.0.mlp.down_proj.qweight").shape());
            assertArrayEquals(new long[]{4, 16}, c.info("model.layers.0.mlp.down_proj.scales").shape());
        }
        String qw = "model.layers.0.mlp.up_proj.qweight";
        var bad = replaced(entries(cfg, DType.F16), TinyModels.ints(qw, new long[]{16, 32}));
        Path dir = TinyModels.write(tmp.resolve("gptq-bad"), cfg, bad, Long.MAX_VALUE);
        rejected(dir, dir.toString(), "tensor '" + qw + "' has shape [16, 32], config implies [2, 32]");
        var floatQweight = replaced(entries(cfg, DType.F16), floats(qw, DType.F16, new long[]{2, 32}, 0f));
        Path dir2 = TinyModels.write(tmp.resolve("gptq-f16"), cfg, floatQweight, Long.MAX_VALUE);
        rejected(dir2, dir2.toString(), "tensor '" + qw + "' has dtype F16, expected I32");
    }
}
