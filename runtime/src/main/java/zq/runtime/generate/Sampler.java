package zq.runtime.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks next tokens from logits by {@link SamplingOptions}. Penalties follow transformers'
 * {@code RepetitionPenaltyLogitsProcessor} (a positive logit is divided by the penalty, a negative one
 * multiplied, for every distinct token of prompt and output) and OpenAI's presence/frequency penalties
 * ({@code logit −= presence·[count > 0] + frequency·count} over the output tokens). Top-k keeps the k
 * largest logits (ties at the k-th kept), top-p the smallest set of most likely tokens whose probability
 * reaches p, as {@code TopPLogitsWarper}. One {@link SplittableRandom} draw per token, so a seed fixes the output.
 */
public final class Sampler {
    private final SamplingOptions options;
    private final SplittableRandom random;

    public Sampler(SamplingOptions options) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
    }

    /**
     * The next token.
     *
     * @param logits       the model's logits (not changed)
     * @param context      every token so far: the prompt, then the generated ones
     * @param promptLength how many of {@code context} are prompt
     */
    public int next(float[] logits, int[] context, int promptLength) {
        double[] z = penalised(logits, context, promptLength);
        if (options.isGreedy()) return argmax(z);
        return draw(z);
    }

    /** The logits after the penalties, in double. */
    double[] penalised(float[] logits, int[] context, int promptLength) {
        double[] z = new double[logits.length];
        for (int i = 0; i < z.length; i++) z[i] = logits[i];
        if (options.repetitionPenalty() != 1) {
            boolean[] seen = new boolean[z.length];
            for (int t : context) {
                if (seen[t]) continue;
                seen[t] = true;
                z[t] = z[t] < 0 ? z[t] * options.repetitionPenalty() : z[t] / options.repetitionPenalty();
            }
        }
        if (options.presencePenalty() != 0 || options.frequencyPenalty() != 0) {
            int[] count = new int[z.length];
            for (int i = promptLength; i < context.length; i++) count[context[i]]++;
            for (int t = 0; t < z.length; t++) {
                if (count[t] > 0) z[t] -= options.presencePenalty() + options.frequencyPenalty() * count[t];
            }
        }
        return z;
    }

    /** The largest entry; the lowest id among equals (as torch.argmax). */
    static int argmax(double[] z) {
        int best = 0;
        for (int i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
        return best;
    }

    private int draw(double[] z) {
        int n = z.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> z[a] != z[b] ? Double.compare(z[b], z[a]) : Integer.compare(a, b));
        int keep = n;
        if (options.topK() > 0 && options.topK() < n) {
            keep = options.topK();
            while (keep < n && z[order[keep]] == z[order[keep - 1]]) keep++; // ties with the k-th stay, as torch.topk's threshold does
        }
        double max = z[order[0]], t = options.temperature();
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((z[order[i]] - max) / t);
            sum += p[i];
        }
        if (options.topP() < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += p[i] / sum;
                if (cumulative >= options.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) sum += p[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }
}
