package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.LinearRef;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.Fixtures.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layer-streaming API as a GPTQ pass uses it: observe Linear inputs, swap weights, re-run; and its bad inputs. */
class LayerStreamTest {
    @TempDir Path tmp;

    private record Seen(int layer, InputGroup.Kind kind, List<String> linears, int in, int[] lengths, float[] input) {}

    private Path llama() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.LLAMA, 32, 48, 2, 4, 2, 60);
        cfg.put("head_dim", 16); // q width 64 ≠ hidden 32
        return Fixtures.synthetic(tmp.resolve("llama"), cfg, DType.F32, 3);
    }

    @Test
    void observerSeesEachLinearGroupsInputInOrder() throws Exception {
        Path dir = llama();
        List<int[]> windows = List.of(Fixtures.randomTokens(6, 60, 1), Fixtures.randomTokens(4, 60, 2));
        List<Seen> seen = new ArrayList<>();
        try (Checkpoint ck = Checkpoint.open(dir); LayerStream s = new LayerStream(ck)) {
            Activations x = s.embed(windows);
            for (int i = 0; i < s.layerCount(); i++) {
                x = s.forward(s.loadLayer(i), x, (group, input, lengths) -> seen.add(new Seen(group.layer(), group.kind(),
                        group.linears().stream().map(LinearRef::prefix).toList(), group.inFeatures(), lengths, input.clone())));
            }
            assertEquals(8, seen.size());
            String p = "model.layers.0.";
            assertEquals(new Seen(0, InputGroup.Kind.ATTENTION, List.of(p + "self_attn.q_proj", p + "self_attn.k_proj",
                    p + "self_attn.v_proj"), 32, null, null).linears(), seen.get(0).linears());
            int[] ins = {32, 64, 32, 48};
            InputGroup.Kind[] kinds = InputGroup.Kind.values();
            for (int i = 0; i < 8; i++) {
                Seen o = seen.get(i);
                assertEquals(i / 4, o.layer());
                assertEquals(kinds[i % 4], o.kind());
                assertEquals(ins[i % 4], o.in());
                assertArrayEquals(new int[]{6, 4}, o.lengths());
                assertEquals(10 * ins[i % 4], o.input().length);
            }
            assertEquals(List.of(p + "mlp.up_proj", p + "mlp.gate_proj"), seen.get(2).linears());

            // layer 0's attention input is input_layernorm(embedding), worked out here in double
            float[] embed = ck.floats("model.embed_tokens.weight"), w = ck.floats(p + "input_layernorm.weight");
            int row = 0;
            for (int[] win : windows) {
                for (int token : win) {
                    double ss = 0;
                    for (int i = 0; i < 32; i++) ss += (double) embed[token * 32 + i] * embed[token * 32 + i];
                    double inv = 1 / Math.sqrt(ss / 32 + 1e-5);
                    for (int i = 0; i < 32; i++) {
                        assertEquals(embed[token * 32 + i] * inv * w[i], seen.get(0).input()[row * 32 + i], 1e-6);
                    }
                    row++;
                }
            }
        }
    }

    @Test
    void replacedWeightsAreTheOnesThatRun() throws Exception {
        try (Checkpoint ck = Checkpoint.open(llama()); LayerStream s = new LayerStream(ck)) {
            Activations x = s.embed(List.of(Fixtures.randomTokens(5, 60, 9)));
            LayerWeights w = s.loadLayer(0);
            // no biases here: with o_proj and down_proj zero both residual branches add nothing
            LayerWeights silenced = w.withWeight(LinearRef.Role.O, new float[32 * 64]).withWeight(LinearRef.Role.DOWN, new float[32 * 48]);
            assertArrayEquals(x.windows().get(0), s.forward(silenced, x, LinearInputObserver.NONE).windows().get(0), 0f);
            assertTrue(maxAbsDiff(x.windows().get(0), s.forward(w, x, LinearInputObserver.NONE).windows().get(0)) > 0.01);
            // the original weights are untouched by withWeight
            assertTrue(maxAbs(w.o().weight()) > 0);
        }
    }

    @Test
    void tokenOutsideTheVocabularyIsRefused() throws Exception {
        Path dir = llama();
        try (Checkpoint ck = Checkpoint.open(dir); LayerStream s = new LayerStream(ck)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.embed(List.of(new int[]{1, 2}, new int[]{3, 60})));
            assertEquals("token id 60 (window 1, position 1) is outside the vocabulary of " + dir + " (vocab_size 60)", e.getMessage());
        }
    }

    @Test
    void layerOutsideTheModelIsRefused() throws Exception {
        Path dir = llama();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerWeightsLoader.load(ck, 2));
            assertEquals(dir + ": no layer 2 (the model has 2)", e.getMessage());
        }
    }

    @Test
    void nonFiniteWeightsAreRefusedNamingTheTensor() throws Exception {
        Map<String, Tensor> t = Fixtures.readAll(llama());
        t.get("model.embed_tokens.weight").floats()[3 * 32 + 5] = Float.NaN;
        t.get("lm_head.weight").floats()[7 * 32 + 1] = Float.POSITIVE_INFINITY;
        t.get("model.layers.1.mlp.up_proj.weight").floats()[0] = Float.NaN;
        Path dir = Fixtures.write(tmp.resolve("bad"), Fixtures.readConfig(tmp.resolve("llama")), t);
        Path file = dir.resolve("model.safetensors");
        try (Checkpoint ck = Checkpoint.open(dir); LayerStream s = new LayerStream(ck)) {
            assertEquals(file + ": tensor 'model.embed_tokens.weight' has a non-finite value (NaN) at row 3, column 5",
                    assertThrows(CheckpointException.class, () -> s.embed(List.of(new int[]{1, 3}))).getMessage());
            assertEquals(file + ": tensor 'lm_head.weight' has a non-finite value (Infinity) at row 7, column 1",
                    assertThrows(CheckpointException.class, () -> s.head().slice(s.workspace(), "head", 0, 60)).getMessage());
            assertTrue(assertThrows(CheckpointException.class, () -> s.loadLayer(1)).getMessage()
                    .contains("tensor 'model.layers.1.mlp.up_proj.weight' has a non-finite value"));
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
