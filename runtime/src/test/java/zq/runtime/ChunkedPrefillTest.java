package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A window cut into chunks of positions (keys and values carried in the layer's cache) gives the logits of
 * the same window in one chunk, for chunk sizes that divide the window and ones that do not, and across
 * Mistral's sliding window.
 */
class ChunkedPrefillTest {
    /**
     * Chunked and one-shot runs do the same fp32 arithmetic except that the gemms see different row blocks
     * (sgemm may sum a dot product in another order) and attention's query blocks start at different
     * positions: differences of a few fp32 ulps of the logits' scale, far below 1e-5 of it.
     */
    private static final double RELATIVE = 1e-5;

    @TempDir Path tmp;

    @ParameterizedTest(name = "{0}, sliding window {1}, {2} positions in chunks of {3}")
    @CsvSource({
            "LLAMA, 0, 300, 64", "LLAMA, 0, 300, 100", "LLAMA, 0, 300, 299", "LLAMA, 0, 300, 1",
            "QWEN2, 0, 260, 77", "ZHINAO, 0, 200, 128",
            "MISTRAL, 40, 300, 64", "MISTRAL, 40, 300, 33", "MISTRAL, 150, 300, 7"})
    void chunkedEqualsOneShot(Architecture arch, int window, int length, int chunk) throws Exception {
        ObjectNode cfg = Fixtures.config(arch, 32, 48, 2, 4, arch == Architecture.LLAMA ? 4 : 2, 60);
        if (window > 0) cfg.put("sliding_window", window);
        if (arch == Architecture.QWEN2) cfg.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, DType.F32, 13);
        int[] tokens = Fixtures.randomTokens(length, 60, 4);
        try (Checkpoint ck = Checkpoint.open(dir); NativeWorkspace a = new NativeWorkspace(); NativeWorkspace b = new NativeWorkspace();
             LayerStream whole = new LayerStream(ck, length, 0, a); LayerStream chunked = new LayerStream(ck, chunk, 0, b)) {
            float[] expected = whole.logits(tokens), actual = chunked.logits(tokens);
            assertRelativelyClose(expected, actual, 60, arch + " chunks of " + chunk);
        }
    }

    /** The one-shot path itself is checked against the float64 reference, so the pair cannot agree on a wrong answer. */
    @Test
    void chunkedMistralMatchesTheFloat64Reference() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.MISTRAL, 32, 48, 2, 4, 2, 60);
        cfg.put("sliding_window", 40);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, DType.F32, 13);
        int[] tokens = Fixtures.randomTokens(150, 60, 4);
        try (Checkpoint ck = Checkpoint.open(dir); NativeWorkspace w = new NativeWorkspace(); LayerStream chunked = new LayerStream(ck, 33, 0, w)) {
            RuntimeVsReferenceTest.assertClose(ReferenceForward.logits(dir, tokens), chunked.logits(tokens), 60, "mistral in chunks of 33");
        }
    }

    /**
     * The cache is what makes chunks agree: the second chunk run as a window of its own (no cached keys, RoPE
     * from 0) gives other logits, and a long window mixed with short ones in one batch still matches.
     */
    @Test
    void laterChunksDependOnTheCacheAndBatchesMixLongAndShortWindows() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.LLAMA, 32, 48, 2, 4, 2, 60);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, DType.F32, 13);
        int[] tokens = Fixtures.randomTokens(120, 60, 4);
        try (Checkpoint ck = Checkpoint.open(dir); NativeWorkspace a = new NativeWorkspace(); NativeWorkspace b = new NativeWorkspace();
             LayerStream whole = new LayerStream(ck, 4096, 0, a); LayerStream chunked = new LayerStream(ck, 50, 0, b)) {
            float[] expected = whole.logits(tokens);
            float[] alone = whole.logits(java.util.Arrays.copyOfRange(tokens, 50, 100));
            double diff = 0;
            for (int i = 0; i < alone.length; i++) diff = Math.max(diff, Math.abs(alone[i] - expected[50 * 60 + i]));
            assertTrue(diff > 1e-2, "without the cache the second chunk's logits barely change (" + diff + "): the test would not see a broken cache");

            List<int[]> windows = List.of(Fixtures.randomTokens(20, 60, 1), tokens, Fixtures.randomTokens(30, 60, 2), Fixtures.randomTokens(25, 60, 3));
            Activations x = chunked.forwardAllLayers(chunked.embed(windows));
            for (int w = 0; w < windows.size(); w++) {
                int len = windows.get(w).length;
                float[] logits = chunked.head().logits(chunked.finalNorm(x.windows().get(w), len), len);
                assertRelativelyClose(whole.logits(windows.get(w)), logits, 60, "window " + w);
            }
        }
    }

    static void assertRelativelyClose(float[] expected, float[] actual, int vocab, String what) {
        assertEquals(expected.length, actual.length, what + ": logits size");
        double worst = 0;
        for (int t = 0; t < expected.length / vocab; t++) {
            double scale = 0, diff = 0;
            for (int v = 0; v < vocab; v++) {
                scale = Math.max(scale, Math.abs(expected[t * vocab + v]));
                diff = Math.max(diff, Math.abs(expected[t * vocab + v] - actual[t * vocab + v]));
            }
            assertTrue(scale > 0.1, what + ": degenerate logits at position " + t);
            worst = Math.max(worst, diff / scale);
        }
        assertTrue(worst <= RELATIVE, what + ": max |Δlogit| / max |logit| = " + worst);
    }
}
