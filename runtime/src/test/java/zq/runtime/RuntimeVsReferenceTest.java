package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime's logits against the independent float64 forward of the tests, on tiny models of every kind. */
public class RuntimeVsReferenceTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir Path tmp;

    public record Case(String name, Architecture arch, int hidden, int heads, int kvHeads, DType dtype, Consumer<ObjectNode> tweak) {
        @Override public String toString() { return name; }
    }

    public static Stream<Arguments> cases() {
        return Stream.of(
                new Case("llama MHA, untied, no bias, default rope", Architecture.LLAMA, 32, 4, 4, DType.F32, c -> { }),
                new Case("llama GQA, tied, q/k/v/o and MLP bias, linear rope", Architecture.LLAMA, 32, 4, 2, DType.F32, c -> {
                    c.put("tie_word_embeddings", true);
                    c.put("attention_bias", true);
                    c.put("mlp_bias", true);
                    c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
                }),
                new Case("qwen2 GQA, q/k/v bias, dynamic rope past max positions", Architecture.QWEN2, 32, 4, 2, DType.F32, c -> {
                    c.put("max_position_embeddings", 8);
                    c.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0);
                }),
                new Case("mistral MQA, sliding window 5, yarn rope", Architecture.MISTRAL, 64, 4, 1, DType.F32, c -> {
                    c.put("sliding_window", 5);
                    c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0)
                            .put("original_max_position_embeddings", 64);
                }),
                new Case("zhinao GQA, fused qkv, llama3 rope, bf16", Architecture.ZHINAO, 64, 4, 2, DType.BF16, c -> {
                    c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                            .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
                }),
                new Case("zhinao MHA, fused qkv, head_dim 16 > hidden/heads, big rope base", Architecture.ZHINAO, 32, 4, 4, DType.BF16, c -> {
                    c.put("head_dim", 16);
                    c.put("rope_theta", 5.0e7);
                }),
                new Case("llama GQA, head_dim 4 < hidden/heads, yarn with attention_factor", Architecture.LLAMA, 32, 4, 2, DType.F32, c -> {
                    c.put("head_dim", 4);
                    c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 2.0).put("attention_factor", 0.8);
                })
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logitsMatchTheFloat64Reference(Case c) throws Exception {
        ObjectNode cfg = Fixtures.config(c.arch(), c.hidden(), 64, 2, c.heads(), c.kvHeads(), 80);
        c.tweak().accept(cfg);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, c.dtype(), 7);
        int[] tokens = Fixtures.randomTokens(12, 80, 3);
        double[][] expected = ReferenceForward.logits(dir, tokens);
        try (Checkpoint ck = Checkpoint.open(dir); LayerStream stream = new LayerStream(ck)) {
            float[] actual = stream.logits(tokens);
            assertClose(expected, actual, 80, c.name());
        }
    }

    @Test
    void windowsOfDifferentLengthsInSharedAndSeparateChunksMatchTheReference() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.QWEN2, 32, 64, 2, 4, 2, 70);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, DType.F32, 11);
        List<int[]> windows = List.of(Fixtures.randomTokens(12, 70, 1), Fixtures.randomTokens(7, 70, 2),
                Fixtures.randomTokens(5, 70, 3));
        // 13 rows per chunk: [12] alone, then [7, 5] together; 10 vocabulary rows per head slice: 7 slices, the last partial
        try (Checkpoint ck = Checkpoint.open(dir); NativeWorkspace memory = new NativeWorkspace();
             LayerStream stream = new LayerStream(ck, 13, 10, memory)) {
            Activations x = stream.forwardAllLayers(stream.embed(windows));
            for (int w = 0; w < windows.size(); w++) {
                int len = windows.get(w).length;
                float[] logits = stream.head().logits(stream.finalNorm(x.windows().get(w), len), len);
                assertClose(ReferenceForward.logits(dir, windows.get(w)), logits, 70, "window " + w);
            }
        }
    }

    /**
     * Windows longer than one block of query positions (Attention.QUERY_BLOCK = 128), so that later blocks
     * see the keys of earlier ones; with Mistral's sliding window of 150, the third block's first visible
     * key is past position 0.
     */
    @ParameterizedTest(name = "sliding window {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 150})
    void windowsSpanningSeveralQueryBlocksMatchTheReference(int slidingWindow) throws Exception {
        ObjectNode cfg = Fixtures.config(slidingWindow > 0 ? Architecture.MISTRAL : Architecture.LLAMA, 32, 48, 1, 4, 2, 40);
        if (slidingWindow > 0) cfg.put("sliding_window", slidingWindow);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, DType.F32, 5);
        int[] tokens = Fixtures.randomTokens(3 * Attention.QUERY_BLOCK - 50, 40, 9);
        double[][] expected = ReferenceForward.logits(dir, tokens);
        try (Checkpoint ck = Checkpoint.open(dir); LayerStream stream = new LayerStream(ck)) {
            assertClose(expected, stream.logits(tokens), 40, "window " + tokens.length + ", sliding " + slidingWindow);
        }
    }

    @Test
    void qwen2WithSlidingWindowIsRefused() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.QWEN2, 32, 64, 1, 4, 2, 50);
        cfg.put("use_sliding_window", true);
        cfg.put("sliding_window", 8);
        Path dir = Fixtures.synthetic(tmp.resolve("q"), cfg, DType.F32, 1);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> new LayerStream(ck));
            assertEquals(dir.resolve("config.json") + ": use_sliding_window is true; zq's runtime supports Qwen2 with full "
                    + "attention only", e.getMessage());
        }
    }

    static void assertClose(double[][] expected, float[] actual, int vocab, String what) {
        assertEquals(expected.length * vocab, actual.length, what + ": logits size");
        double maxRef = 0, maxDiff = 0;
        for (int t = 0; t < expected.length; t++) {
            for (int v = 0; v < vocab; v++) {
                maxRef = Math.max(maxRef, Math.abs(expected[t][v]));
                maxDiff = Math.max(maxDiff, Math.abs(expected[t][v] - actual[t * vocab + v]));
            }
        }
        assertTrue(maxRef > 0.1, what + ": reference logits are degenerate");
        assertTrue(maxDiff <= TOLERANCE * maxRef, what + ": max |Δlogit| " + maxDiff + " vs max |logit| " + maxRef);
    }
}
