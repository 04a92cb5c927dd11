package zq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.OutputFolder;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.SyntheticModel;
import zq.formats.TensorData;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

class DequantizeCommandTest {
    @TempDir Path tmp;

    /** A GPTQ checkpoint with sym zeros (0x77777777, docs/gptq.md, "Zero points"), all codes 9 and scales 0.5: every weight is 0.5. */
    private Path gptq() throws Exception {
        ObjectNode cfg = SyntheticModel.config(Architecture.LLAMA, 32, 64, 1, 4, 4, 30);
        ObjectNode q = cfg.putObject("quantization_config");
        q.put("bits", 4).put("group_size", 16).put("desc_act", false).put("sym", true).put("quant_method", "gptq");
        ModelConfig c = ModelConfig.of(cfg, tmp.resolve("config.json"));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, long[]> e : ModelLayout.of(c).expectedTensors().entrySet()) {
            String n = e.getKey();
            int size = (int) java.util.Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            int[] ints = new int[size];
            float[] floats = new float[size];
            if (n.endsWith("qweight")) java.util.Arrays.fill(ints, 0x99999999);
            if (n.endsWith("qzeros")) java.util.Arrays.fill(ints, 0x77777777);
            if (n.endsWith("g_idx")) for (int i = 0; i < size; i++) ints[i] = i / 16;
            java.util.Arrays.fill(floats, n.endsWith("scales") ? 0.5f : 1f);
            boolean isInt = n.endsWith("qweight") || n.endsWith("qzeros") || n.endsWith("g_idx");
            entries.add(new SafetensorsWriter.Entry(n, isInt ? DType.I32 : DType.F16, e.getValue(),
                    isInt ? TensorData.ints(ints) : TensorData.floats(floats, DType.F16)));
        }
        Path dir = tmp.resolve("g");
        try (OutputFolder out = OutputFolder.create(dir)) {
            ShardedWriter.write(out.dir(), SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            ModelConfig.write(cfg, out.dir().resolve("config.json"));
            out.commit();
        }
        return dir;
    }

    @Test void writesADenseCheckpoint() throws Exception {
        Path in = gptq(), out = tmp.resolve("d");
        CliRun r = zq("dequantize", in.toString(), "-o", out.toString(), "--dtype", "bf16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out.toAbsolutePath()), r.out());
        try (Checkpoint c = Checkpoint.open(out)) {
            assertFalse(c.config().isQuantized());
            assertEquals("bfloat16", c.config().torchDtype());
            // scale 0.5 · (code 9 − zero (7 + 1)) = 0.5 for every weight
            for (float v : c.floats("model.layers.0.mlp.down_proj.weight")) assertEquals(0.5f, v);
            assertEquals(DType.BF16, c.info("model.layers.0.self_attn.q_proj.weight").dtype());
        }
    }

    @Test void badInputIsOneLineAndExitTwo() throws Exception {
        Path in = gptq();
        String o = tmp.resolve("o").toString();
        ConvertCommandTest.assertBadInput(zq("dequantize", in.toString(), "-o", o, "--dtype", "int4"), "unknown dtype 'int4'");
        Path dense = SyntheticModel.write(tmp.resolve("dense"), SyntheticModel.config(Architecture.LLAMA, 32, 64, 1, 4, 4, 30), DType.BF16, 1);
        ConvertCommandTest.assertBadInput(zq("dequantize", dense.toString(), "-o", o), "not a GPTQ checkpoint");
        ConvertCommandTest.assertBadInput(zq("dequantize", in.toString(), "-o", in.toString()), "output folder already exists");
    }
}
