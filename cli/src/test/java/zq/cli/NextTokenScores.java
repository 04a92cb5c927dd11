package zq.cli;

/**
 * Scores of next-token logits in float64, the same arithmetic for llama.cpp's and zq's rows: the
 * log-probability of each target, the top-1 token, and the KL divergence of one distribution from another.
 */
final class NextTokenScores {
    private NextTokenScores() {}

    /** Log-softmax of row {@code r} of {@code logits} (rows of {@code vocab}). */
    static double[] logSoftmax(float[] logits, int vocab, int r) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) max = Math.max(max, logits[r * vocab + j]);
        double sum = 0;
        for (int j = 0; j < vocab; j++) sum += Math.exp(logits[r * vocab + j] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[vocab];
        for (int j = 0; j < vocab; j++) out[j] = logits[r * vocab + j] - lse;
        return out;
    }

    static int argmax(float[] logits, int vocab, int r) {
        int best = 0;
        for (int j = 1; j < vocab; j++) if (logits[r * vocab + j] > logits[r * vocab + best]) best = j;
        return best;
    }

    /** exp(mean negative log-likelihood of {@code targets}). */
    static double perplexity(float[] logits, int vocab, int[] targets) {
        double nll = 0;
        for (int r = 0; r < targets.length; r++) nll -= logSoftmax(logits, vocab, r)[targets[r]];
        return Math.exp(nll / targets.length);
    }

    /** Fraction of rows with the same top-1 token. */
    static double top1Agreement(float[] a, float[] b, int vocab) {
        int rows = a.length / vocab, same = 0;
        for (int r = 0; r < rows; r++) if (argmax(a, vocab, r) == argmax(b, vocab, r)) same++;
        return (double) same / rows;
    }

    /** Mean over rows of KL(P‖Q), P from {@code reference}. */
    static double meanKld(float[] reference, float[] candidate, int vocab) {
        int rows = reference.length / vocab;
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double[] p = logSoftmax(reference, vocab, r), q = logSoftmax(candidate, vocab, r);
            for (int j = 0; j < vocab; j++) total += Math.exp(p[j]) * (p[j] - q[j]);
        }
        return total / rows;
    }

    /** The targets of windows scored position by position: every token but the first of each window. */
    static int[] targets(java.util.List<int[]> windows) {
        int n = 0;
        for (int[] w : windows) n += w.length - 1;
        int[] t = new int[n];
        int i = 0;
        for (int[] w : windows) for (int k = 1; k < w.length; k++) t[i++] = w[k];
        return t;
    }
}
