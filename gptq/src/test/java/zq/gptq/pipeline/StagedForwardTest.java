package zq.gptq.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.LinearRef;
import zq.formats.SyntheticModel;
import zq.gptq.GptqConfig;
import zq.formats.gptq.PackedLinear;
import zq.gptq.export.GptqExporter;
import zq.gptq.export.QuantizeRequest;
import zq.gptq.export.QuantizeResult;
import zq.gptq.hessian.HessianBackend;

/**
 * The staged pipeline (one forward per layer) writes exactly the checkpoint of the five-forward reference
 * ({@link FiveForwardReference}, AutoGPTQ's hook design): every tensor compared bit for bit, on tiny models of each
 * architecture and for each setting that changes which numbers a group reads. The reference runs the whole layer per
 * group with the plain forward; the staged path runs each step once over all chunks, keeps or recomputes the inputs
 * between passes and factors each shared Hessian once. Chunks of 64 rows make every pass span several gemms, so a
 * pass that mixed up chunks, skipped a swapped weight or fed a Hessian the wrong rows would change codes.
 */
class StagedForwardTest {
    @TempDir Path tmp;

    private static final int CHUNK_ROWS = 64;

    /** 8 windows of 24 random tokens: 192 rows, three chunks of 64 (whole windows per chunk: 2, 2, 2, 2 → 48-row chunks). */
    private static Calibration calibration() {
        return new Calibration("random tokens", 24, 0, PipelineFixtures.randomWindows(8, 24, 5));
    }

    private static GptqConfig config(int groupSize, boolean descAct, boolean staticGroups) {
        return new GptqConfig(4, groupSize, descAct, true, staticGroups, GptqConfig.DEFAULT_DAMP_PERCENT, GptqConfig.DEFAULT_BLOCK_SIZE, false);
    }

    static Stream<Arguments> cases() {
        long keepAll = PipelineOptions.DEFAULT_STAGE_BUDGET_BYTES;
        return Stream.of(
                Arguments.of("llama g128", Architecture.LLAMA, config(128, false, false), true, keepAll),
                Arguments.of("llama g32", Architecture.LLAMA, config(32, false, false), true, keepAll),
                Arguments.of("llama g32 recomputing every stage input", Architecture.LLAMA, config(32, false, false), true, 0L),
                Arguments.of("qwen2 (biases) g32 desc_act", Architecture.QWEN2, config(32, true, false), true, keepAll),
                Arguments.of("llama g32 desc_act static groups", Architecture.LLAMA, config(32, true, true), true, keepAll),
                Arguments.of("mistral g-1 without true-sequential", Architecture.MISTRAL, config(-1, false, false), false, keepAll),
                Arguments.of("llama g32 without true-sequential", Architecture.LLAMA, config(32, false, false), false, keepAll),
                Arguments.of("zhinao fused qkv g128", Architecture.ZHINAO, config(128, false, false), true, keepAll),
                Arguments.of("zhinao fused qkv g32 desc_act recomputing", Architecture.ZHINAO, config(32, true, false), true, 0L));
    }

    /** hidden 128, intermediate 256 (so g128 divides every input), 4 heads / 2 KV heads, 2 layers. */
    private Path model(Architecture arch, String name) throws Exception {
        return SyntheticModel.write(tmp.resolve(name), SyntheticModel.config(arch, 128, 256, 2, 4, 2, PipelineFixtures.VOCAB),
                DType.BF16, 17);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void checkpointIsBitIdenticalToTheFiveForwardReference(String name, Architecture arch, GptqConfig config, boolean trueSequential,
                                                           long stageBudget) throws Exception {
        Path in = model(arch, "in");
        Path out = tmp.resolve("out");
        PipelineOptions options = new PipelineOptions(QuantizeMethod.GPTQ, config, trueSequential, HessianBackend.CPU, stageBudget, CHUNK_ROWS);
        QuantizeResult r = GptqExporter.run(QuantizeRequest.of(in, out, options, calibration()), ProgressListener.NONE);
        try (Checkpoint dense = Checkpoint.open(in); Checkpoint q = Checkpoint.open(out)) {
            Map<String, PackedLinear> ref = FiveForwardReference.quantize(dense, config, trueSequential, calibration(), CHUNK_ROWS);
            int compared = 0;
            for (String t : q.layout().expectedTensors().keySet()) {
                assertEquals(true, q.has(t), name + ": " + t + " missing");
                compared++;
            }
            for (var l : q.layout().layers()) {
                for (LinearRef lin : l.linears()) {
                    PackedLinear p = ref.get(lin.prefix());
                    assertArrayEquals(p.qweight(), q.ints(lin.qweight()), name + ": " + lin.qweight());
                    assertArrayEquals(p.qzeros(), q.ints(lin.qzeros()), name + ": " + lin.qzeros());
                    assertArrayEquals(p.gIdx(), q.ints(lin.gIdx()), name + ": " + lin.gIdx());
                    float[] scales = new float[p.scales().length];
                    for (int i = 0; i < scales.length; i++) scales[i] = HalfFloats.f16ToFloat(p.scales()[i]);
                    assertArrayEquals(scales, q.floats(lin.scales()), name + ": " + lin.scales());
                }
            }
            // every other tensor is the input's, rounded to fp16
            for (String t : dense.layout().denseTensors().keySet()) {
                if (t.endsWith(".weight") && q.has(t)) {
                    float[] src = dense.floats(t), expected = new float[src.length];
                    for (int i = 0; i < src.length; i++) expected[i] = HalfFloats.f16ToFloat(HalfFloats.floatToF16(src[i]));
                    assertArrayEquals(expected, q.floats(t), name + ": " + t);
                }
            }
            assertTrue(compared > 0);
        }
        // one forward per layer with every stage input kept, more when some are recomputed, two without true-sequential
        if (!trueSequential) assertEquals(2.0, r.forwardsPerLayer(), 1e-12, name);
        else if (stageBudget > 0) assertEquals(1.0, r.forwardsPerLayer(), 1e-12, name);
        else assertTrue(r.forwardsPerLayer() > 1.2 && r.forwardsPerLayer() < 2, name + ": " + r.forwardsPerLayer());
    }

    /** The comparison can tell: the reference without true-sequential gives other codes, so a staging slip would show. */
    @Test
    void theReferenceDependsOnWhatEachGroupReads() throws Exception {
        Path in = model(Architecture.LLAMA, "in");
        try (Checkpoint dense = Checkpoint.open(in)) {
            Map<String, PackedLinear> seq = FiveForwardReference.quantize(dense, config(32, false, false), true, calibration(), CHUNK_ROWS);
            Map<String, PackedLinear> flat = FiveForwardReference.quantize(dense, config(32, false, false), false, calibration(), CHUNK_ROWS);
            String down0 = dense.layout().layers().get(0).down().prefix();
            String q0 = dense.layout().layers().get(0).attention().get(0).prefix();
            assertArrayEquals(seq.get(q0).qweight(), flat.get(q0).qweight(), "q/k/v read the same input either way");
            assertFalse(Arrays.equals(seq.get(down0).qweight(), flat.get(down0).qweight()),
                    "down_proj reads quantised up/gate outputs only with true-sequential");
        }
    }
}
