package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.GptqTwins;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
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
        GptqTwins twins = GptqTwins.write(tmp, cfg, groupSize, v1);
        Path quantized = twins.gptq(), twin = twins.dense();
        Map<String, float[]> expected = twins.expected();

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
}
