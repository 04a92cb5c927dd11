package zq.validate;

import zq.runtime.FloatExp;

import java.util.stream.IntStream;

/**
 * Per-position softmax statistics accumulated over vocabulary slices without ever holding a whole row
 * of logits: the running maximum m (and its argmax), {@code S = Σ e^(z−m)}, the logit of the target
 * token, and optionally {@code C = Σ e^(z−m)·(z − z')} against a second model's logits z', so that
 * {@code E_p[z − z'] = C/S}. Rescaling S and C whenever m grows keeps every exponent ≤ 0 (stable
 * log-softmax); the exponentials are fp32 ({@link FloatExp}, as accurate as the logits), sums are in double.
 */
final class RowSoftmaxStats {
    private final int[] targets;
    private final double[] max, sum, cross;
    private final int[] argmax;
    private final float[] targetLogit;

    RowSoftmaxStats(int[] targets, boolean withCross) {
        int n = targets.length;
        this.targets = targets;
        this.max = new double[n];
        this.sum = new double[n];
        this.cross = withCross ? new double[n] : null;
        this.argmax = new int[n];
        this.targetLogit = new float[n];
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    }

    /**
     * Adds logits {@code [rows × count]} of vocabulary ids {@code v0..v0+count-1} for positions
     * {@code row0..row0+rows-1}; {@code other} holds the second model's logits of the same slice, or null.
     */
    void update(int row0, int rows, int v0, int count, float[] logits, float[] other) {
        IntStream.range(0, rows).parallel().forEach(r -> {
            int i = row0 + r, off = r * count;
            double m = max[i];
            int best = argmax[i];
            for (int v = 0; v < count; v++) {
                if (logits[off + v] > m) {
                    m = logits[off + v];
                    best = v0 + v;
                }
            }
            double rescale = Math.exp(max[i] - m); // 0 on the first slice, where max[i] is −∞
            double s = 0, c = 0;
            for (int v = 0; v < count; v++) {
                double e = FloatExp.exp((float) (logits[off + v] - m));
                s += e;
                if (other != null) c += e * ((double) logits[off + v] - other[off + v]);
            }
            sum[i] = sum[i] * rescale + s;
            if (cross != null) cross[i] = cross[i] * rescale + c;
            max[i] = m;
            argmax[i] = best;
            int t = targets[i];
            if (t >= v0 && t < v0 + count) targetLogit[i] = logits[off + t - v0];
        });
    }

    int positions() { return targets.length; }

    double logSumExp(int i) { return max[i] + Math.log(sum[i]); }

    /** −log p(target). */
    double nll(int i) { return logSumExp(i) - targetLogit[i]; }

    double targetProbability(int i) { return Math.exp(-nll(i)); }

    /** The vocabulary id with the largest logit (the first one on ties). */
    int argmax(int i) { return argmax[i]; }

    /** {@code E_p[z − z']} under this model's distribution p, against the second model's logits z'. */
    double expectedLogitGap(int i) { return cross[i] / sum[i]; }
}
