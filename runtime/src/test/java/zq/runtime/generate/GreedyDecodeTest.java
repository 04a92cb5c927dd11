package zq.runtime.generate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.GptqTwins;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy generation with the KV cache (layer-by-layer prefill, then one token at a time from the stored
 * weights) against the float64 reference forward recomputing the whole prefix at every step, no cache:
 * every generated token must be the reference's argmax given the tokens before it, except at near-ties,
 * steps where the reference's two best logits are within 1e-4 (fp32 rounding can order those either way);
 * those are counted and must stay rare.
 */
class GreedyDecodeTest {
    private static final double NEAR_TIE = 1e-4;
    private static final int NEW_TOKENS = 14;

    @TempDir Path tmp;

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> cases() {
        return zq.runtime.RuntimeVsReferenceTest.cases();
    }

    /** Every architecture, attention shape, bias and RoPE type of the runtime's reference test, prompts of 3 and 20 tokens. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cachedGreedyEqualsRecomputingTheWholePrefix(zq.runtime.RuntimeVsReferenceTest.Case c) throws Exception {
        ObjectNode cfg = Fixtures.config(c.arch(), c.hidden(), 64, 2, c.heads(), c.kvHeads(), 80);
        c.tweak().accept(cfg);
        // dynamic NTK past the context rotates each cached key with the base of its own step, by design (as
        // transformers' cache does): compare within the context, where every RoPE type is length-independent
        cfg.put("max_position_embeddings", Math.max(64, cfg.path("max_position_embeddings").asInt()));
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, c.dtype(), 7);
        for (int promptLength : new int[]{3, 20}) {
            assertGreedyMatchesReference(dir, dir, Fixtures.randomTokens(promptLength, 80, promptLength), 80, c.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = Architecture.class, names = {"LLAMA", "ZHINAO", "MISTRAL"})
    void gptqGreedyEqualsTheReferenceOnItsDequantizedTwin(Architecture arch) throws Exception {
        ObjectNode cfg = Fixtures.config(arch, 64, 96, 2, 4, 2, 80);
        if (arch == Architecture.MISTRAL) cfg.put("sliding_window", 9);
        GptqTwins twins = GptqTwins.write(tmp, cfg, 16, true);
        assertGreedyMatchesReference(twins.gptq(), twins.dense(), Fixtures.randomTokens(12, 80, 2), 80, arch + " GPTQ");
    }

    /** The check can fail: a model that ignored the history would pick other tokens than the reference. */
    @Test
    void theHistoryChangesTheReferenceChoice() throws Exception {
        ObjectNode cfg = Fixtures.config(Architecture.LLAMA, 32, 64, 2, 4, 2, 80);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, zq.formats.DType.F32, 7);
        int[] tokens = generate(dir, Fixtures.randomTokens(5, 80, 5));
        int differ = 0;
        int[] all = concat(Fixtures.randomTokens(5, 80, 5), tokens);
        for (int i = 0; i < NEW_TOKENS; i++) {
            int last = all[5 + i - 1];
            if (argmax(ReferenceForward.logits(dir, new int[]{last})[0]) != tokens[i]) differ++;
        }
        assertTrue(differ > 0, "every token was the argmax after its predecessor alone: the test could not see a lost cache");
    }

    private static void assertGreedyMatchesReference(Path model, Path reference, int[] prompt, int vocab, String what) {
        int[] generated = generate(model, prompt);
        assertEquals(NEW_TOKENS, generated.length, what + ": tokens generated");
        int[] all = concat(prompt, generated);
        int ties = 0;
        for (int i = 0; i < generated.length; i++) {
            double[][] logits = ReferenceForward.logits(reference, Arrays.copyOf(all, prompt.length + i));
            double[] last = logits[logits.length - 1];
            int best = argmax(last);
            double second = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) if (v != best) second = Math.max(second, last[v]);
            if (last[best] - second < NEAR_TIE) {
                ties++;
                assertTrue(last[generated[i]] >= second, what + ": step " + i + " picked neither of the tied best");
                continue;
            }
            assertEquals(best, generated[i], what + ", prompt " + prompt.length + ": step " + i);
        }
        assertTrue(ties <= 2, what + ": " + ties + " near-ties in " + generated.length + " steps");
    }

    private static int[] generate(Path model, int[] prompt) {
        try (Checkpoint ck = Checkpoint.open(model); Session s = new Session(ck)) {
            Generator g = new Generator(s, null);
            return g.generateIds(new GenerationRequest(prompt, NEW_TOKENS, SamplingOptions.greedy(), Set.of(), java.util.List.of()));
        }
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
