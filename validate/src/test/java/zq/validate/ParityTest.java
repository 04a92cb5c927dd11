package zq.validate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParityTest {
    @TempDir Path tmp;

    private ObjectNode cfg() { return Fixtures.config(Architecture.LLAMA, 32, 64, 2, 4, 2, 80); }

    @Test
    void aModelAgainstItselfIsPerfect() throws Exception {
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg(), DType.F32, 1);
        try (Checkpoint a = Checkpoint.open(dir); Checkpoint b = Checkpoint.open(dir)) {
            ParityReport r = Parity.run(a, b, Fixtures.randomTokens(30, 80, 2), Perplexity.Options.of(8, 0));
            assertEquals(1.0, r.pplRatio());
            assertEquals(0.0, r.kldMean());
            assertEquals(0.0, r.kldMax());
            assertEquals(1.0, r.top1Agreement());
            assertEquals(0.0, r.rmsDeltaP());
            assertEquals(26, r.tokens());
            assertEquals(List.of(), new ParityThresholds(1.0, 0.0, 1.0).failures(r));
        }
    }

    @Test
    void statisticsMatchThoseOfTheReferenceForward() throws Exception {
        // the same random weights in fp32 and rounded to bf16: a small perturbation, like quantization
        Path base = Fixtures.synthetic(tmp.resolve("base"), cfg(), DType.F32, 4);
        Path cand = Fixtures.synthetic(tmp.resolve("cand"), cfg(), DType.BF16, 4);
        int[] tokens = Fixtures.randomTokens(22, 80, 5); // windows 8, 8, 6
        double kldSum = 0, nllB = 0, nllC = 0, dp2 = 0;
        double[] klds = new double[19];
        int same = 0, n = 0;
        for (int start = 0; start < tokens.length; start += 8) {
            int[] w = Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + 8));
            double[][] lb = ReferenceForward.logits(base, w), lc = ReferenceForward.logits(cand, w);
            for (int t = 0; t + 1 < w.length; t++) {
                double[] pb = softmax(lb[t]), pc = softmax(lc[t]);
                double kl = 0;
                for (int v = 0; v < 80; v++) kl += pb[v] * Math.log(pb[v] / pc[v]);
                klds[n++] = kl;
                kldSum += kl;
                nllB -= Math.log(pb[w[t + 1]]);
                nllC -= Math.log(pc[w[t + 1]]);
                dp2 += (pc[w[t + 1]] - pb[w[t + 1]]) * (pc[w[t + 1]] - pb[w[t + 1]]);
                if (argmax(pb) == argmax(pc)) same++;
            }
        }
        Arrays.sort(klds);
        try (Checkpoint a = Checkpoint.open(base); Checkpoint b = Checkpoint.open(cand)) {
            ParityReport r = Parity.run(a, b, tokens, new Perplexity.Options(8, 0, 8, 5, 9, 4));
            assertEquals(19, r.tokens());
            assertEquals(Math.exp(nllB / 19), r.pplBaseline(), 1e-5 * r.pplBaseline());
            assertEquals(Math.exp(nllC / 19), r.pplCandidate(), 1e-5 * r.pplCandidate());
            assertTrue(kldSum / 19 > 1e-6, "the bf16 copy should differ measurably, KLD " + kldSum / 19);
            assertEquals(kldSum / 19, r.kldMean(), 1e-3 * kldSum / 19);
            assertEquals(klds[18], r.kldMax(), 1e-3 * klds[18]);
            assertEquals(klds[9], r.kldMedian(), 1e-3 * klds[9]);
            assertEquals((double) same / 19, r.top1Agreement());
            assertEquals(Math.sqrt(dp2 / 19), r.rmsDeltaP(), 1e-3 * Math.sqrt(dp2 / 19));

            List<String> f = new ParityThresholds(null, r.kldMean() / 2, null).failures(r);
            assertEquals(1, f.size());
            assertTrue(f.get(0).startsWith("mean KLD"), f.get(0));
        }
    }

    @Test
    void percentilesAreNearestRank() {
        double[] kld = {0.7, 0.2, 1.0, 0.0, 0.4, 0.9, 0.1, 0.6, 0.3, 0.8, 0.5};
        ParityReport r = ParityReport.of(10, 11, kld, 8, 0.11, 0.0121, 2, 8);
        assertEquals(0.5, r.kldMean(), 1e-12);
        assertEquals(0.5, r.kldMedian()); // index round(0.5·10) = 5
        assertEquals(0.9, r.kldP90());    // index 9
        assertEquals(1.0, r.kldP95());    // index round(9.5) = 10
        assertEquals(1.0, r.kldMax());
        assertEquals(8.0 / 11, r.top1Agreement(), 1e-12);
        assertEquals(1.1, r.pplRatio(), 1e-12);
        assertEquals(Math.sqrt(0.0121 / 11), r.rmsDeltaP(), 1e-12);
    }

    @Test
    void modelsWithDifferentVocabulariesAreRefused() throws Exception {
        Path a = Fixtures.synthetic(tmp.resolve("a"), cfg(), DType.F32, 1);
        Path b = Fixtures.synthetic(tmp.resolve("b"), Fixtures.config(Architecture.LLAMA, 32, 64, 2, 4, 2, 81), DType.F32, 1);
        try (Checkpoint ca = Checkpoint.open(a); Checkpoint cb = Checkpoint.open(b)) {
            assertEquals("baseline " + a + " has vocab_size 80 but candidate " + b + " has 81; validate compares next-token "
                            + "distributions, so both must share one vocabulary",
                    assertThrows(CheckpointException.class, () -> Parity.run(ca, cb, new int[]{1, 2, 3}, Perplexity.Options.of(8, 0)))
                            .getMessage());
        }
        Path c = Fixtures.synthetic(tmp.resolve("c"), cfg(), DType.BF16, 1);
        Files.writeString(a.resolve("tokenizer.json"), "{\"model\":1}");
        Files.writeString(c.resolve("tokenizer.json"), "{\"model\":2}");
        try (Checkpoint ca = Checkpoint.open(a); Checkpoint cc = Checkpoint.open(c)) {
            assertEquals("baseline and candidate differ in tokenizer.json (" + a.resolve("tokenizer.json") + " vs "
                            + c.resolve("tokenizer.json") + "); validate needs models that share one vocabulary",
                    assertThrows(CheckpointException.class, () -> Parity.run(ca, cc, new int[]{1, 2, 3}, Perplexity.Options.of(8, 0)))
                            .getMessage());
        }
    }

    @Test
    void thresholdsAreChecked() {
        assertEquals("--min-top1 is a fraction between 0 and 1 (e.g. 0.95 for 95 %), got 95.0",
                assertThrows(IllegalArgumentException.class, () -> new ParityThresholds(null, null, 95.0)).getMessage());
        assertEquals("--max-ppl-ratio must be positive, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new ParityThresholds(-1.0, null, null)).getMessage());
        ParityReport r = ParityReport.of(10, 10.5, new double[]{0.02, 0.04}, 1, 0, 0, 1, 3);
        assertEquals(List.of("ppl ratio 1.050000 exceeds --max-ppl-ratio 1.02", "mean KLD 0.0300000 exceeds --max-kld 0.01",
                "top-1 agreement 0.5000 is below --min-top1 0.9"), new ParityThresholds(1.02, 0.01, 0.9).failures(r));
        assertEquals(List.of(), new ParityThresholds(1.06, 0.03, 0.5).failures(r));
    }

    private static double[] softmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow(), sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) sum += p[i] = Math.exp(z[i] - max);
        for (int i = 0; i < z.length; i++) p[i] /= sum;
        return p;
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
