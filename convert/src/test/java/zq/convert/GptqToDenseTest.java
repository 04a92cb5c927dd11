package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.LinearRef;
import zq.formats.ShardedWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dequantized weights against the reader formula of docs/gptq.md, "The AutoGPTQ layout", evaluated here in a plain loop. */
class GptqToDenseTest {
    @TempDir Path tmp;

    /**
     * w[n][k] = scale[g][n] · (q[k][n] − zero[g][n]), g = g_idx[k]; q is nibble k%8 of qweight[k/8][n],
     * the stored zero is nibble n%8 of qzeros[g][n/8], plus one in the v1 "gptq" format.
     */
    private static float[] expected(Checkpoint c, LinearRef l, int zeroOffset) {
        int in = l.inFeatures(), out = l.outFeatures();
        int[] qweight = c.ints(l.qweight()), qzeros = c.ints(l.qzeros()), gIdx = c.ints(l.gIdx());
        float[] scales = c.floats(l.scales());
        float[] w = new float[out * in];
        for (int n = 0; n < out; n++) {
            for (int k = 0; k < in; k++) {
                int g = gIdx[k];
                int q = (qweight[(k / 8) * out + n] >>> (4 * (k % 8))) & 0xF;
                int z = ((qzeros[g * (out / 8) + n / 8] >>> (4 * (n % 8))) & 0xF) + zeroOffset;
                w[n * in + k] = scales[g * out + n] * (q - z);
            }
        }
        return w;
    }

    private void matchesTheFormula(String format, int zeroOffset) throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 16);
        cfg.with("quantization_config").put("checkpoint_format", format);
        Path gptq = TinyCheckpoint.write(tmp.resolve(format), cfg, DType.F16, 21, Map.of());
        Path dense = tmp.resolve(format + "-dense");
        // 512-value tiles: 8 output rows of a 64-wide Linear at a time, so every Linear takes several tiles
        GptqToDense.dequantize(gptq, dense, DType.F32, ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false, 512);
        try (Checkpoint g = Checkpoint.open(gptq); Checkpoint d = Checkpoint.open(dense)) {
            assertFalse(d.config().isQuantized());
            for (var layer : g.layout().layers()) {
                for (LinearRef l : layer.linears()) {
                    assertEquals(DType.F32, d.info(l.weight()).dtype());
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected(g, l, zeroOffset), d.floats(l.weight()), l.prefix());
                    if (l.hasBias()) {
                        org.junit.jupiter.api.Assertions.assertArrayEquals(g.floats(l.bias()), d.floats(l.bias()), l.bias());
                    }
                }
            }
        }
    }

    @Test void v1ZerosAreStoredMinusOne() throws Exception { matchesTheFormula("gptq", 1); }

    @Test void v2ZerosAreStoredAsTheyAre() throws Exception { matchesTheFormula("gptq_v2", 0); }

    @Test void defaultsToTheConfigDtypeAndDropsTheQuantizationConfig() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        Path gptq = TinyCheckpoint.write(tmp.resolve("g"), cfg, DType.F16, 2, Map.of());
        Files.writeString(gptq.resolve("quantize_config.json"), "{\"bits\": 4}");
        Files.writeString(gptq.resolve("generation_config.json"), "{}");
        ConvertResult r = GptqToDense.dequantize(gptq, tmp.resolve("d"), null, ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false);
        try (Checkpoint d = Checkpoint.open(tmp.resolve("d"))) {
            assertEquals("float16", d.config().torchDtype());
            assertFalse(d.config().json().has("quantization_config"));
            for (String n : d.tensorNames()) {
                assertEquals(DType.F16, d.info(n).dtype(), n);
                assertFalse(n.endsWith("qweight") || n.endsWith("qzeros") || n.endsWith("scales") || n.endsWith("g_idx"), n);
            }
            assertEquals(d.layout().expectedTensors().size(), r.tensors());
        }
        assertFalse(Files.exists(tmp.resolve("d/quantize_config.json")));
        assertTrue(Files.exists(tmp.resolve("d/generation_config.json")));
    }

    @Test void f16OverflowNamesTheLinearAndCounts() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        String scalesName = "model.layers.0.mlp.down_proj.scales"; // [4 groups, 64]
        float[] scales = new float[4 * 64];
        java.util.Arrays.fill(scales, 0.01f);
        scales[5] = 60000f; // group 0, output column 5
        Path gptq = TinyCheckpoint.write(tmp.resolve("g"), cfg, DType.F16, 4, Map.of(scalesName, scales));
        int expectedOverflows = 0;
        try (Checkpoint g = Checkpoint.open(gptq)) {
            LinearRef down = g.layout().layers().get(0).down();
            for (float v : expected(g, down, 1)) if (Math.abs(v) >= 65520f) expectedOverflows++;
        }
        assertTrue(expectedOverflows > 0);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> GptqToDense.dequantize(gptq, tmp.resolve("d"), DType.F16, ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false));
        assertTrue(e.getMessage().contains("Linear 'model.layers.0.mlp.down_proj': " + expectedOverflows
                + " dequantized values overflow F16"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("d")));
    }

    @Test void refusesADenseCheckpoint() throws Exception {
        Path dense = TinyCheckpoint.write(tmp.resolve("z"), TinyCheckpoint.zhinao(64, 4, 2), DType.BF16, 1, Map.of());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> GptqToDense.dequantize(dense, tmp.resolve("d"), null, ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false));
        assertTrue(e.getMessage().contains("not a GPTQ checkpoint"), e.getMessage());
    }
}
