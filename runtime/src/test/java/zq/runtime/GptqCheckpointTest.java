package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.Fixtures.Tensor;
import zq.runtime.fixtures.GptqFixture;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A GPTQ checkpoint built by hand from integer codes, and a dense twin holding the weights the layout
 * implies: the loader must produce exactly those weights, and the runtime on the GPTQ checkpoint must
 * give the reference forward's logits on the twin.
 */
class GptqCheckpointTest {
    @TempDir Path tmp;

    @ParameterizedTest(name = "{0}, group size {1}, v1 zeros {2}")
    @CsvSource({"LLAMA, 16, true", "QWEN2, -1, false", "ZHINAO, 32, true", "MISTRAL, 32, false"})
    void gptqCheckpointRunsLikeItsDequantizedTwin(Architecture arch, int groupSize, boolean v1) throws Exception {
        ObjectNode cfg = Fixtures.config(arch, 64, 96, 2, 4, 2, 80);
        Map<String, Tensor> source = Fixtures.readAll(Fixtures.synthetic(tmp.resolve("source"), cfg, DType.F32, 21));
        ModelLayout layout = ModelLayout.of(ModelConfig.of(cfg, tmp.resolve("config.json")));
        Map<String, LinearRef> linears = new HashMap<>();
        for (LayerLayout l : layout.layers()) for (LinearRef r : l.linears()) linears.put(r.weight(), r);

        Map<String, Tensor> gptq = new LinkedHashMap<>(), dense = new LinkedHashMap<>();
        Map<String, float[]> expected = new HashMap<>();
        long seed = 100;
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            LinearRef ref = linears.get(e.getKey());
            if (ref == null) {
                boolean isBias = e.getKey().endsWith(".bias");
                // GPTQ checkpoints keep biases in fp16: the twin gets the same fp16 values
                float[] v = isBias ? roundToF16(e.getValue().floats()) : e.getValue().floats();
                gptq.put(e.getKey(), isBias ? Tensor.f16(v, e.getValue().shape()) : Tensor.f32(v, e.getValue().shape()));
                dense.put(e.getKey(), Tensor.f32(v, e.getValue().shape()));
                continue;
            }
            int in = ref.inFeatures(), out = ref.outFeatures();
            GptqFixture f = GptqFixture.random(in, out, groupSize, v1 ? 1 : 0, seed++);
            gptq.put(ref.qweight(), Tensor.i32(f.qweight(), in / 8, out));
            gptq.put(ref.qzeros(), Tensor.i32(f.qzeros(v1), f.groups(), out / 8));
            gptq.put(ref.scales(), Tensor.f16(f.scalesFlat(), f.groups(), out));
            gptq.put(ref.gIdx(), Tensor.i32(f.gIdx(), in));
            dense.put(ref.weight(), Tensor.f32(f.dequantized(), out, in));
            expected.put(ref.prefix(), f.dequantized());
        }
        Path quantized = Fixtures.write(tmp.resolve("gptq"), GptqFixture.quantizationConfig(cfg.deepCopy(), groupSize, v1), gptq);
        Path twin = Fixtures.write(tmp.resolve("twin"), cfg, dense);

        int[] tokens = Fixtures.randomTokens(10, 80, 4);
        try (Checkpoint ck = Checkpoint.open(quantized); LayerStream stream = new LayerStream(ck)) {
            for (int layer = 0; layer < 2; layer++) {
                for (Linear l : LayerWeightsLoader.load(ck, layer).linears()) {
                    assertArrayEquals(expected.get(l.ref().prefix()), l.weight(), 0f, l.ref().prefix());
                }
            }
            RuntimeVsReferenceTest.assertClose(ReferenceForward.logits(twin, tokens), stream.logits(tokens), 80,
                    arch + " GPTQ");
        }
    }

    private static float[] roundToF16(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = HalfFloats.f16ToFloat(HalfFloats.floatToF16(v[i]));
        return r;
    }
}
