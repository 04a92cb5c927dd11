package zq.formats.text;

import java.util.Arrays;
import java.util.Random;

/**
 * GPTQ's calibration recipe: {@code nsamples} windows of exactly {@code seqlen} consecutive tokens,
 * each starting at a uniformly random offset in {@code [0, len - seqlen]}. Offsets come from
 * {@link java.util.Random} seeded with {@code seed}, whose sequence the Java specification fixes, so a
 * seed gives the same windows on every machine (not the same as Python's {@code random.seed}).
 */
public final class WindowSampler {
    private WindowSampler() {}

    /** Start offsets of the windows, in draw order. */
    public static int[] starts(int corpusLength, int nsamples, int seqlen, long seed, String source) {
        if (nsamples <= 0) throw new IllegalArgumentException("nsamples must be positive, got " + nsamples);
        if (seqlen <= 0) throw new IllegalArgumentException("seqlen must be positive, got " + seqlen);
        if (corpusLength < seqlen) {
            throw new IllegalArgumentException(source + " has " + corpusLength + " tokens, fewer than one window of seqlen "
                    + seqlen + "; give a longer calibration text or a smaller seqlen");
        }
        Random random = new Random(seed);
        int[] starts = new int[nsamples];
        for (int i = 0; i < nsamples; i++) starts[i] = random.nextInt(corpusLength - seqlen + 1);
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
