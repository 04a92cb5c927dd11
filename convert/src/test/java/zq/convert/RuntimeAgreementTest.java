package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.runtime.LayerStream;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Converted checkpoints run through the embedded runtime. */
class RuntimeAgreementTest {
    @TempDir Path tmp;

    private static final int[] TOKENS = {3, 17, 0, 39, 8, 8, 25, 11, 30, 2, 19, 33};

    private static float[] runtimeLogits(Path dir) {
        try (Checkpoint c = Checkpoint.open(dir); LayerStream s = new LayerStream(c)) {
            return s.logits(TOKENS);
        }
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double maxDiff(float[] a, double[][] ref) {
        int vocab = ref[0].length;
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - ref[i / vocab][i % vocab]));
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private void zhinaoAndQwen2GiveIdenticalLogits(int heads, int kvHeads) throws Exception {
        Path z = TinyCheckpoint.write(tmp.resolve("z" + kvHeads), TinyCheckpoint.zhinao(64, heads, kvHeads), DType.BF16, 11, Map.of());
        Path q = tmp.resolve("q" + kvHeads);
        CheckpointConverter.convert(z, q, ConvertOptions.none().withTarget(Architecture.QWEN2));
        float[] lz = runtimeLogits(z), lq = runtimeLogits(q);
        // the runtime regroups both layouts into the same [Q;K;V] product: the logits are bit-identical
        assertEquals(0.0, maxDiff(lz, lq), "max |Δlogit| Zhinao vs Qwen2");
    }

    @Test void gqaZhinaoAndItsQwen2ConversionAgree() throws Exception { zhinaoAndQwen2GiveIdenticalLogits(8, 2); }

    @Test void mhaZhinaoAndItsQwen2ConversionAgree() throws Exception { zhinaoAndQwen2GiveIdenticalLogits(4, 4); }

    @Test void newRopeBaseMatchesAnIndependentRopeComputation() throws Exception {
        Path in = TinyCheckpoint.write(tmp.resolve("z"), TinyCheckpoint.zhinao(64, 4, 2), DType.F32, 5, Map.of());
        Path out = tmp.resolve("long");
        double newBase = 5e7; // 360Zhinao's 32K/360K base (docs/formats.md, "Long context")
        CheckpointConverter.convert(in, out, ConvertOptions.none().withRopeBase(newBase));
        float[] before = runtimeLogits(in), after = runtimeLogits(out);
        double[][] refBefore, refAfter;
        try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(out)) {
            refBefore = new ReferenceDecoder(a, 1e4).logits(TOKENS);
            refAfter = new ReferenceDecoder(b, newBase).logits(TOKENS);
        }
        double tol = 1e-4 * Math.max(1, maxAbs(after));
        assertEquals(0, maxDiff(before, refBefore), tol, "runtime vs reference at base 1e4");
        assertEquals(0, maxDiff(after, refAfter), tol, "runtime vs reference at base 5e7");
        double change = maxDiff(before, after);
        assertTrue(change > 100 * tol, "logits must move with the base: max change " + change + ", tolerance " + tol);
    }

    @Test void dequantizedCheckpointEqualsTheRuntimesInFlightDequantization() throws Exception {
        ObjectNode cfg = TinyCheckpoint.gptq(TinyCheckpoint.zhinao(64, 4, 2), 32);
        Path gptq = TinyCheckpoint.write(tmp.resolve("g"), cfg, DType.F16, 13, Map.of());
        Path dense = tmp.resolve("d");
        GptqToDense.dequantize(gptq, dense, DType.F32, zq.formats.ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false);
        float[] lg = runtimeLogits(gptq), ld = runtimeLogits(dense);
        assertArrayEquals(lg, ld, "runtime logits: GPTQ dequantized in flight vs the dense checkpoint");
        try (Checkpoint g = Checkpoint.open(gptq); Checkpoint d = Checkpoint.open(dense)) {
            for (var layer : g.layout().layers()) {
                for (var lin : layer.linears()) {
                    assertArrayEquals(zq.runtime.LayerWeightsLoader.loadLinear(g, lin).weight(), d.floats(lin.weight()),
                            lin.prefix());
                }
            }
        }
    }
}
