package zq.formats.text;

import java.util.Arrays;
import java.util.Random;

/**
 * GPTQ calibration windows that never overlap: from a stream of T tokens, {@code nsamples} (N) windows of exactly
 * {@code seqlen} (L) consecutive tokens, no token in two windows. The rule:
 * <ol>
 *   <li>N·L ≤ T, or it is an error that says how many windows of L fit (⌊T/L⌋);</li>
 *   <li>the T − N·L tokens left out are spread as N + 1 gaps before, between and after the windows: N cut points are
 *       drawn uniformly from [0, T − N·L] and sorted, and window k (in stream order) starts at cut k + k·L;</li>
 *   <li>the windows are then put in a random order (Fisher–Yates), so the first windows are not always the
 *       stream's beginning.</li>
 * </ol>
 * When T = N·L every token is used exactly once: the windows are the stream's N consecutive windows, shuffled.
 * All draws come from {@link java.util.Random} seeded with {@code seed}, whose sequence the Java specification fixes,
 * so a seed gives the same windows on every machine (not the same as Python's {@code random.seed}). AutoGPTQ's and
 * optimum's recipes draw each start independently, which repeats tokens when the corpus is small; here the corpus is
 * used as fully as the request allows.
 */
public final class WindowSampler {
    private WindowSampler() {}

    /** Start offsets of the windows, in window order. */
    public static int[] starts(int corpusLength, int nsamples, int seqlen, long seed, String source) {
        if (nsamples <= 0) throw new IllegalArgumentException("nsamples must be positive, got " + nsamples);
        if (seqlen <= 0) throw new IllegalArgumentException("seqlen must be positive, got " + seqlen);
        int fit = corpusLength / seqlen;
        if ((long) nsamples * seqlen > corpusLength) {
            throw new IllegalArgumentException(source + " has " + corpusLength + " tokens: " + fit + " disjoint windows of seqlen "
                    + seqlen + " fit, " + nsamples + " were asked for; use "
                    + (fit == 0 ? "--seqlen " + corpusLength + " or less" : "--nsamples " + fit + ", a smaller --seqlen,")
                    + " or more calibration text");
        }
        int slack = corpusLength - nsamples * seqlen;
        Random random = new Random(seed);
        int[] cuts = new int[nsamples];
        for (int i = 0; i < nsamples; i++) cuts[i] = random.nextInt(slack + 1);
        Arrays.sort(cuts);
        int[] starts = new int[nsamples];
        for (int k = 0; k < nsamples; k++) starts[k] = cuts[k] + k * seqlen;
        for (int i = nsamples - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = starts[i];
            starts[i] = starts[j];
            starts[j] = t;
        }
        return starts;
    }

    /** The windows themselves: {@code nsamples} copies of {@code seqlen} tokens each. */
    public static int[][] sample(int[] tokens, int nsamples, int seqlen, long seed, String source) {
        int[] starts = starts(tokens.length, nsamples, seqlen, seed, source);
        int[][] windows = new int[nsamples][];
        for (int i = 0; i < nsamples; i++) windows[i] = Arrays.copyOfRange(tokens, starts[i], starts[i] + seqlen);
        return windows;
    }
}
