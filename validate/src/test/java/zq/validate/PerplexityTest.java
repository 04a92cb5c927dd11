package zq.validate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.Fixtures.Tensor;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PerplexityTest {
    @TempDir Path tmp;

    private Path model(Architecture arch, long seed) throws Exception {
        ObjectNode cfg = Fixtures.config(arch, 32, 64, 2, 4, 2, 80);
        return Fixtures.synthetic(tmp.resolve(arch + "-" + seed), cfg, DType.F32, seed);
    }

    @Test
    void zeroLmHeadPredictsUniformlySoPplIsTheVocabularySize() throws Exception {
        Path src = model(Architecture.LLAMA, 1);
        Map<String, Tensor> t = Fixtures.readAll(src);
        Arrays.fill(t.get("lm_head.weight").floats(), 0f);
        Path dir = Fixtures.write(tmp.resolve("uniform"), Fixtures.readConfig(src), t);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            // 30 tokens in windows of 8: 8, 8, 8, 6 → 7 + 7 + 7 + 5 predictions
            PerplexityResult r = Perplexity.run(ck, Fixtures.randomTokens(30, 80, 2), Perplexity.Options.of(8, 0));
            assertEquals(80.0, r.ppl(), 1e-10);
            assertEquals(26, r.tokens());
            assertEquals(4, r.windows());
            assertEquals(8, r.seqLen());
        }
    }

    @Test
    void matchesTheReferenceForwardWhateverTheBlocking() throws Exception {
        Path dir = model(Architecture.QWEN2, 3);
        int[] tokens = Fixtures.randomTokens(29, 80, 4); // windows 8, 8, 8, 5
        double nll = 0;
        for (int start = 0; start < tokens.length; start += 8) {
            int[] w = Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + 8));
            double[][] logits = ReferenceForward.logits(dir, w);
            for (int t = 0; t + 1 < w.length; t++) {
                double max = Arrays.stream(logits[t]).max().orElseThrow(), sum = 0;
                for (double l : logits[t]) sum += Math.exp(l - max);
                nll += max + Math.log(sum) - logits[t][w[t + 1]];
            }
        }
        double expected = Math.exp(nll / 25);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            PerplexityResult plain = Perplexity.run(ck, tokens, Perplexity.Options.of(8, 0));
            // two windows per pass, 10 rows per gemm, 7 vocabulary rows per head slice, 5 positions per logit chunk
            PerplexityResult blocked = Perplexity.run(ck, tokens, new Perplexity.Options(8, 0, 16, 10, 7, 5));
            assertEquals(expected, plain.ppl(), 1e-5 * expected);
            assertEquals(expected, blocked.ppl(), 1e-5 * expected);
            assertEquals(25, plain.tokens());
            assertEquals(4, blocked.windows());
        }
    }

    @Test
    void aFinalWindowOfOneTokenIsNotScoredAndMaxWindowsCuts() throws Exception {
        try (Checkpoint ck = Checkpoint.open(model(Architecture.MISTRAL, 5))) {
            int[] tokens = Fixtures.randomTokens(25, 80, 6); // 8, 8, 8, 1
            PerplexityResult all = Perplexity.run(ck, tokens, Perplexity.Options.of(8, 0));
            assertEquals(3, all.windows());
            assertEquals(21, all.tokens());
            PerplexityResult two = Perplexity.run(ck, tokens, Perplexity.Options.of(8, 2));
            assertEquals(2, two.windows());
            assertEquals(14, two.tokens());
        }
    }

    @Test
    void badInputIsRefused() throws Exception {
        Path dir = model(Architecture.LLAMA, 7);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals("--seqlen must be at least 2, got 1", assertThrows(IllegalArgumentException.class,
                    () -> Perplexity.run(ck, new int[]{1, 2, 3}, Perplexity.Options.of(1, 0))).getMessage());
            assertEquals("the text: token 2 has id 80, outside the vocabulary of " + dir + " (vocab_size 80, ids 0..79)",
                    assertThrows(CheckpointException.class,
                            () -> Perplexity.run(ck, new int[]{1, 2, 80}, Perplexity.Options.of(8, 0))).getMessage());
            assertEquals("the text has 3 tokens, fewer than one window of --seqlen 8; pass --seqlen 3 or less, or a longer text",
                    assertThrows(CheckpointException.class,
                            () -> Perplexity.run(ck, new int[]{1, 2, 3}, Perplexity.Options.of(8, 0))).getMessage());
        }
    }
}
