package zq.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sampling against hand-worked examples and the distributions it should draw from. */
class SamplerTest {

    private static SamplingOptions sampling(double temperature, int topK, double topP, long seed) {
        return new SamplingOptions(temperature, topK, topP, 1, 0, 0, seed);
    }

    /**
     * logits [2, −1, 1.2, 3]; prompt [0]; generated [1, 1, 3]. Repetition 2 over {0, 1, 3}:
     * 2 → 1, −1 → −2, 3 → 1.5 (positive divided, negative multiplied). Presence 0.5 and frequency 0.25 over
     * the generated counts {1: 2, 3: 1}: token 1 → −2 − 0.5 − 0.5 = −3, token 3 → 1.5 − 0.5 − 0.25 = 0.75.
     * Result [1, −3, 1.2, 0.75]: greedy picks 2, where without penalties it picks 3.
     */
    @Test
    void penaltiesMatchTheHandWorkedExample() {
        float[] logits = {2f, -1f, 1.2f, 3f};
        int[] context = {0, 1, 1, 3};
        Sampler s = new Sampler(new SamplingOptions(0, 0, 1, 2.0, 0.5, 0.25, 0));
        assertArrayEquals(new double[]{1, -3, 1.2f, 0.75}, s.penalised(logits, context, 1), 1e-12);
        assertEquals(2, s.next(logits, context, 1));
        assertEquals(3, new Sampler(SamplingOptions.greedy()).next(logits, context, 1));
    }

    @Test
    void aSeedFixesTheDrawsAndTopKOneIsGreedy() {
        SplittableRandom r = new SplittableRandom(9);
        float[][] logits = new float[200][50];
        for (float[] l : logits) for (int i = 0; i < l.length; i++) l[i] = (float) (2 * r.nextGaussian());
        int[] a = draws(new Sampler(sampling(1, 0, 0.9, 42)), logits), b = draws(new Sampler(sampling(1, 0, 0.9, 42)), logits);
        int[] c = draws(new Sampler(sampling(1, 0, 0.9, 43)), logits);
        assertArrayEquals(a, b, "same seed, same tokens");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c), "another seed draws other tokens");
        int[] topOne = draws(new Sampler(sampling(1.5, 1, 1, 7)), logits);
        for (int i = 0; i < logits.length; i++) {
            int best = 0;
            for (int v = 1; v < 50; v++) if (logits[i][v] > logits[i][best]) best = v;
            assertEquals(best, topOne[i], "top-k 1 at step " + i);
        }
    }

    /**
     * logits ln [5, 3, 2] are probabilities [0.5, 0.3, 0.2]: top-p 0.6 keeps {0, 1} (0.5 &lt; 0.6 ≤ 0.8) and
     * renormalises to [0.625, 0.375]; top-k 2 does the same; at temperature 2 the full distribution is
     * ∝ √[5, 3, 2]. 20000 draws each: the frequencies are within 4.5 binomial standard deviations.
     */
    @Test
    void drawsFollowTheFilteredDistribution() {
        float[] logits = {(float) Math.log(5), (float) Math.log(3), (float) Math.log(2)};
        assertFrequencies(new Sampler(sampling(1, 0, 0.6, 1)), logits, new double[]{0.625, 0.375, 0});
        assertFrequencies(new Sampler(sampling(1, 2, 1, 2)), logits, new double[]{0.625, 0.375, 0});
        double z = Math.sqrt(5) + Math.sqrt(3) + Math.sqrt(2);
        assertFrequencies(new Sampler(sampling(2, 0, 1, 3)), logits, new double[]{Math.sqrt(5) / z, Math.sqrt(3) / z, Math.sqrt(2) / z});
        // and the uniform alternative is told apart: 0.625 vs 1/3 is dozens of deviations
        int[] counts = count(new Sampler(sampling(1, 0, 0.6, 1)), logits, 20000);
        assertTrue(Math.abs(counts[0] / 20000.0 - 1 / 3.0) > 0.2);
    }

    private static void assertFrequencies(Sampler s, float[] logits, double[] p) {
        int n = 20000;
        int[] counts = count(s, logits, n);
        for (int v = 0; v < p.length; v++) {
            double sd = Math.sqrt(n * p[v] * (1 - p[v]));
            if (p[v] == 0) assertEquals(0, counts[v], "token " + v + " is filtered out");
            else assertTrue(Math.abs(counts[v] - n * p[v]) <= 4.5 * sd, "token " + v + ": " + counts[v] + " of " + n + ", expected p " + p[v]);
        }
    }

    private static int[] count(Sampler s, float[] logits, int n) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) counts[s.next(logits, new int[]{0}, 1)]++;
        return counts;
    }

    private static int[] draws(Sampler s, float[][] logits) {
        int[] out = new int[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = s.next(logits[i], new int[]{0}, 1);
        return out;
    }
}
