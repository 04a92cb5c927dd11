package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.SyntheticModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zhinao ⇄ Qwen2. Expected q/k/v content is computed here from the head numbering of docs/formats.md,
 * "Fused qkv_proj" (query head h lives in KV group h / G at slot h % G; k_g and v_g follow the group's queries),
 * independently of the piece patterns the converter uses.
 */
class QkvConversionTest {
    @TempDir Path tmp;

    private static final ConvertOptions TO_QWEN2 = ConvertOptions.none().withTarget(Architecture.QWEN2);
    private static final ConvertOptions TO_ZHINAO = ConvertOptions.none().withTarget(Architecture.ZHINAO);

    /** Fused block index (in head-sized blocks) of q head h, k head g, v head g. */
    private static int qBlock(int h, int g) { return h / g * (g + 2) + h % g; }

    private static int kBlock(int kv, int g) { return kv * (g + 2) + g; }

    /** Rows [block*rowsPerBlock, +rowsPerBlock) of a row-major byte array with rowBytes per row. */
    private static byte[] blocks(byte[] src, int[] blocks, int rowsPerBlock, int rowBytes) {
        byte[] out = new byte[blocks.length * rowsPerBlock * rowBytes];
        for (int i = 0; i < blocks.length; i++) {
            System.arraycopy(src, blocks[i] * rowsPerBlock * rowBytes, out, i * rowsPerBlock * rowBytes, rowsPerBlock * rowBytes);
        }
        return out;
    }

    /** Columns of a row-major [rows, cols] array of elemBytes elements, in head-sized column blocks. */
    private static byte[] columnBlocks(byte[] src, int rows, int cols, int[] blocks, int colsPerBlock, int elemBytes) {
        byte[] out = new byte[rows * blocks.length * colsPerBlock * elemBytes];
        int o = 0;
        for (int r = 0; r < rows; r++) {
            for (int b : blocks) {
                int from = (r * cols + b * colsPerBlock) * elemBytes;
                System.arraycopy(src, from, out, o, colsPerBlock * elemBytes);
                o += colsPerBlock * elemBytes;
            }
        }
        return out;
    }

    private record Blocks(int[] q, int[] k, int[] v) {}

    private static Blocks blocksOf(int heads, int kvHeads) {
        int g = heads / kvHeads;
        int[] q = new int[heads], k = new int[kvHeads], v = new int[kvHeads];
        for (int h = 0; h < heads; h++) q[h] = qBlock(h, g);
        for (int j = 0; j < kvHeads; j++) {
            k[j] = kBlock(j, g);
            v[j] = kBlock(j, g) + 1;
        }
        return new Blocks(q, k, v);
    }

    private void denseSplitMatchesHeadNumbering(int hidden, int heads, int kvHeads) throws Exception {
        Path in = TinyCheckpoint.write(tmp.resolve("z"), TinyCheckpoint.zhinao(hidden, heads, kvHeads), DType.BF16, 3, Map.of());
        Path out = tmp.resolve("q");
        CheckpointConverter.convert(in, out, TO_QWEN2);
        int hd = hidden / heads;
        Blocks b = blocksOf(heads, kvHeads);
        try (Checkpoint z = Checkpoint.open(in); Checkpoint q = Checkpoint.open(out)) {
            assertEquals(Architecture.QWEN2, q.config().architecture());
            for (int l = 0; l < 2; l++) {
                String p = "model.layers." + l + ".self_attn.";
                byte[] w = TinyCheckpoint.bytes(z, p + "qkv_proj.weight"), bias = TinyCheckpoint.bytes(z, p + "qkv_proj.bias");
                int rowBytes = hidden * 2;
                assertArrayEquals(blocks(w, b.q, hd, rowBytes), TinyCheckpoint.bytes(q, p + "q_proj.weight"));
                assertArrayEquals(blocks(w, b.k, hd, rowBytes), TinyCheckpoint.bytes(q, p + "k_proj.weight"));
                assertArrayEquals(blocks(w, b.v, hd, rowBytes), TinyCheckpoint.bytes(q, p + "v_proj.weight"));
                assertArrayEquals(blocks(bias, b.q, hd, 2), TinyCheckpoint.bytes(q, p + "q_proj.bias"));
                assertArrayEquals(blocks(bias, b.k, hd, 2), TinyCheckpoint.bytes(q, p + "k_proj.bias"));
                assertArrayEquals(blocks(bias, b.v, hd, 2), TinyCheckpoint.bytes(q, p + "v_proj.bias"));
                assertFalse(q.has(p + "qkv_proj.weight"));
            }
            for (String name : z.tensorNames()) {
                if (!name.contains("qkv_proj")) assertArrayEquals(TinyCheckpoint.bytes(z, name), TinyCheckpoint.bytes(q, name), name);
            }
        }
    }

    @Test void gqaSplitMatchesHeadNumbering() throws Exception { denseSplitMatchesHeadNumbering(64, 8, 2); }

    @Test void mhaSplitMatchesHeadNumbering() throws Exception { denseSplitMatchesHeadNumbering(48, 4, 4); }

    private void assertSameTensors(Path a, Path b) {
        try (Checkpoint x = Checkpoint.open(a); Checkpoint y = Checkpoint.open(b)) {
            assertEquals(new ArrayList<>(x.tensorNames()).stream().sorted().toList(), y.tensorNames().stream().sorted().toList());
            for (String name : x.tensorNames()) {
                assertEquals(x.info(name).dtype(), y.info(name).dtype(), name);
                assertArrayEquals(x.info(name).shape(), y.info(name).shape(), name);
                assertArrayEquals(TinyCheckpoint.bytes(x, name), TinyCheckpoint.bytes(y, name), name);
            }
        }
    }

    @Test void zhinaoToQwen2ToZhinaoReproducesEveryTensor() throws Exception {
        for (int kv : new int[]{2, 8}) {
            Path in = TinyCheckpoint.write(tmp.resolve("z" + kv), TinyCheckpoint.zhinao(64, 8, kv), DType.F16, kv, Map.of());
            CheckpointConverter.convert(in, tmp.resolve("q" + kv), TO_QWEN2);
            CheckpointConverter.convert(tmp.resolve("q" + kv), tmp.resolve("back" + kv), TO_ZHINAO);
            assertSameTensors(in, tmp.resolve("back" + kv));
            try (Checkpoint back = Checkpoint.open(tmp.resolve("back" + kv))) {
                assertEquals(Architecture.ZHINAO, back.config().architecture());
                assertEquals("modeling_zhinao.ZhinaoForCausalLM", back.config().json().path("auto_map").path("AutoModelForCausalLM").asText());
            }
        }
    }

    @Test void gptqSplitCutsColumnsOfEveryBufferAndCopiesGIdx() throws Exception {
        // hidden 64, 4 heads of 16, 2 KV heads (G = 2), group size 32
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        Path in = TinyCheckpoint.write(tmp.resolve("gz"), cfg, DType.F16, 5, Map.of());
        Path out = tmp.resolve("gq");
        CheckpointConverter.convert(in, out, TO_QWEN2);
        Blocks b = blocksOf(4, 2);
        int hd = 16, fusedCols = (4 + 2 * 2) * hd;
        try (Checkpoint z = Checkpoint.open(in); Checkpoint q = Checkpoint.open(out)) {
            String p = "model.layers.1.self_attn.";
            byte[] qweight = TinyCheckpoint.bytes(z, p + "qkv_proj.qweight");   // [64/8, 128] int32
            byte[] scales = TinyCheckpoint.bytes(z, p + "qkv_proj.scales");     // [2, 128] fp16
            byte[] qzeros = TinyCheckpoint.bytes(z, p + "qkv_proj.qzeros");     // [2, 16] int32, 2 words per head
            String[] names = {"q_proj", "k_proj", "v_proj"};
            int[][] blocks = {b.q, b.k, b.v};
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(columnBlocks(qweight, 8, fusedCols, blocks[i], hd, 4), TinyCheckpoint.bytes(q, p + names[i] + ".qweight"));
                assertArrayEquals(columnBlocks(scales, 2, fusedCols, blocks[i], hd, 2), TinyCheckpoint.bytes(q, p + names[i] + ".scales"));
                assertArrayEquals(columnBlocks(qzeros, 2, fusedCols / 8, blocks[i], hd / 8, 4), TinyCheckpoint.bytes(q, p + names[i] + ".qzeros"));
                assertArrayEquals(TinyCheckpoint.bytes(z, p + "qkv_proj.g_idx"), TinyCheckpoint.bytes(q, p + names[i] + ".g_idx"));
                assertEquals(DType.F16, q.info(p + names[i] + ".scales").dtype());
            }
            assertArrayEquals(new long[]{8, 64}, q.info(p + "q_proj.qweight").shape());
            assertArrayEquals(new long[]{2, 4}, q.info(p + "k_proj.qzeros").shape());
            assertTrue(q.config().isQuantized());
        }
        CheckpointConverter.convert(out, tmp.resolve("gz2"), TO_ZHINAO);
        assertSameTensors(in, tmp.resolve("gz2"));
    }

    @Test void gptqWithOnlyAQuantizeConfigFileSplitsToo() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        Path in = TinyCheckpoint.write(tmp.resolve("old"), cfg, DType.F16, 9, Map.of());
        // an older AutoGPTQ folder: the settings live in quantize_config.json only
        ObjectNode plain = cfg.deepCopy();
        zq.formats.ModelConfig.write((ObjectNode) plain.remove("quantization_config"), in.resolve("quantize_config.json"));
        zq.formats.ModelConfig.write(plain, in.resolve("config.json"));
        CheckpointConverter.convert(in, tmp.resolve("q"), TO_QWEN2);
        try (Checkpoint q = Checkpoint.open(tmp.resolve("q"))) {
            assertTrue(q.config().isQuantized());
            assertFalse(q.config().json().has("quantization_config"));
            assertTrue(q.has("model.layers.0.self_attn.v_proj.qzeros"));
        }
    }

    @Test void gptqRefusesHeadSizeNotMultipleOf8() throws Exception {
        // hidden 48, 8 heads of 6, 2 KV heads: fused out 72 = 9 qzeros words, but a head is 6 columns
        Path in = TinyCheckpoint.write(tmp.resolve("g6"), TinyCheckpoint.gptq(TinyCheckpoint.zhinao(48, 8, 2), 16), DType.F16, 1, Map.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(in, tmp.resolve("o"), TO_QWEN2));
        assertTrue(e.getMessage().contains("head size 6 is not a multiple of 8"), e.getMessage());
    }

    @Test void gptqMergeRefusesDifferentGIdx() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(SyntheticModel.config(Architecture.QWEN2, 64, 128, 1, 4, 2, 40), 32);
        Path in = tmp.resolve("qw");
        TinyCheckpoint.write(in, cfg, DType.F16, 2, Map.of());
        // rewrite k_proj.g_idx as if quantized with act order: a permutation of the groups
        Path bad = tmp.resolve("qw-act");
        try (Checkpoint c = Checkpoint.open(in)) {
            List<zq.formats.SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : c.tensorNames()) {
                var t = c.info(n);
                zq.formats.TensorData data = n.endsWith("k_proj.g_idx")
                        ? zq.formats.TensorData.ints(actOrderGIdx()) : zq.formats.TensorData.copyOf(c.fileOf(n), t);
                entries.add(new zq.formats.SafetensorsWriter.Entry(n, t.dtype(), t.shape(), data));
            }
            java.nio.file.Files.createDirectories(bad);
            zq.formats.SafetensorsWriter.write(bad.resolve("model.safetensors"), Map.of("format", "pt"), entries);
            java.nio.file.Files.copy(in.resolve("config.json"), bad.resolve("config.json"));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(bad, tmp.resolve("o"), TO_ZHINAO));
        assertTrue(e.getMessage().contains("k_proj.g_idx") && e.getMessage().contains("single g_idx"), e.getMessage());
    }

    private static int[] actOrderGIdx() {
        int[] g = new int[64];
        for (int i = 0; i < 64; i++) g[i] = 1 - i / 32;
        return g;
    }

    @Test void qwen2ConfigKeepsEveryOtherKeyAndDropsRemoteCode() throws Exception {
        ObjectNode cfg = TinyCheckpoint.zhinao(64, 8, 2);
        cfg.putObject("auto_map").put("AutoModelForCausalLM", "modeling_zhinao.ZhinaoForCausalLM");
        cfg.put("use_flash_attn", "auto");
        cfg.put("eos_token_id", 158326);
        Path in = TinyCheckpoint.write(tmp.resolve("z"), cfg, DType.BF16, 1, Map.of());
        CheckpointConverter.convert(in, tmp.resolve("q"), TO_QWEN2);
        ObjectNode out = zq.formats.ModelConfig.read(tmp.resolve("q/config.json")).json();
        assertEquals("[\"Qwen2ForCausalLM\"]", out.get("architectures").toString());
        assertEquals("qwen2", out.get("model_type").asText());
        assertFalse(out.has("auto_map"));
        assertFalse(out.get("use_sliding_window").asBoolean());
        assertTrue(out.get("sliding_window").isNull());
        assertEquals(2, out.get("max_window_layers").asInt());
        var keys = cfg.fieldNames();
        while (keys.hasNext()) {
            String k = keys.next();
            if (!List.of("architectures", "model_type", "auto_map").contains(k)) assertEquals(cfg.get(k), out.get(k), k);
        }
    }

    @Test void refusesWrongSourceArchitecture() throws Exception {
        Path llama = SyntheticModel.write(tmp.resolve("l"), SyntheticModel.config(Architecture.LLAMA, 32, 64, 1, 4, 4, 30), DType.BF16, 1);
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(llama, tmp.resolve("o"), TO_QWEN2));
        assertTrue(e.getMessage().contains("--to qwen2 converts Zhinao checkpoints, but this model is llama"), e.getMessage());
        Path z = TinyCheckpoint.write(tmp.resolve("z"), TinyCheckpoint.zhinao(32, 4, 4), DType.BF16, 1, Map.of());
        e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(z, tmp.resolve("o"), TO_ZHINAO));
        assertTrue(e.getMessage().contains("--to zhinao converts Qwen2 checkpoints, but this model is zhinao"), e.getMessage());
    }

    @Test void refusesWhatTheOtherArchitectureCannotHold() throws Exception {
        ObjectNode zb = TinyCheckpoint.zhinao(32, 4, 4);
        zb.put("bias", true);
        Path z = TinyCheckpoint.write(tmp.resolve("zb"), zb, DType.BF16, 1, Map.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(z, tmp.resolve("o"), TO_QWEN2));
        assertTrue(e.getMessage().contains("o_proj bias"), e.getMessage());

        ObjectNode zm = TinyCheckpoint.zhinao(32, 4, 4);
        zm.put("mlp_bias", true);
        Path m = TinyCheckpoint.write(tmp.resolve("zm"), zm, DType.BF16, 1, Map.of());
        e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(m, tmp.resolve("o"), TO_QWEN2));
        assertTrue(e.getMessage().contains("mlp_bias is true"), e.getMessage());

        ObjectNode qs = SyntheticModel.config(Architecture.QWEN2, 32, 64, 1, 4, 4, 30);
        qs.put("use_sliding_window", true);
        Path s = SyntheticModel.write(tmp.resolve("qs"), qs, DType.BF16, 1);
        e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(s, tmp.resolve("o"), TO_ZHINAO));
        assertTrue(e.getMessage().contains("use_sliding_window is true"), e.getMessage());

        ObjectNode qb = SyntheticModel.config(Architecture.QWEN2, 32, 64, 1, 4, 4, 30);
        qb.put("attention_bias", true);
        Path b = SyntheticModel.write(tmp.resolve("qb"), qb, DType.BF16, 1);
        e = assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(b, tmp.resolve("o"), TO_ZHINAO));
        assertTrue(e.getMessage().contains("'attention_bias' is true"), e.getMessage());
    }
}
