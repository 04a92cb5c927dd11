package zq.validate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a token stream into non-overlapping windows of {@code seqLen}; a final shorter window is kept
 * when it has at least 2 tokens (one prediction). Window {@code i} predicts its tokens 2..n from their prefix.
 */
public final class TokenWindows {
    private TokenWindows() {}

    /** @param maxWindows at most this many windows from the start; 0 for all */
    public static List<int[]> split(int[] tokens, int seqLen, int maxWindows) {
        if (seqLen < 2) throw new IllegalArgumentException("--seqlen must be at least 2, got " + seqLen);
        if (maxWindows < 0) throw new IllegalArgumentException("--max-windows must be positive, got " + maxWindows);
        List<int[]> windows = new ArrayList<>();
        for (int start = 0; start < tokens.length && (maxWindows == 0 || windows.size() < maxWindows); start += seqLen) {
            int end = Math.min(tokens.length, start + seqLen);
            if (end - start < 2) break;
            windows.add(Arrays.copyOfRange(tokens, start, end));
        }
        if (windows.isEmpty()) throw new IllegalArgumentException(tokens.length + " tokens give no window of at least 2 tokens");
        return windows;
    }

    /** Tokens each window predicts: all but the first. */
    public static long predicted(List<int[]> windows) {
        long n = 0;
        for (int[] w : windows) n += w.length - 1;
        return n;
    }

    /** Consecutive groups of at most {@code tokensPerPass} tokens (at least one window each). */
    public static List<List<int[]>> passes(List<int[]> windows, long tokensPerPass) {
        List<List<int[]>> passes = new ArrayList<>();
        List<int[]> current = new ArrayList<>();
        long tokens = 0;
        for (int[] w : windows) {
            if (!current.isEmpty() && tokens + w.length > tokensPerPass) {
                passes.add(current);
                current = new ArrayList<>();
                tokens = 0;
            }
            current.add(w);
            tokens += w.length;
        }
        passes.add(current);
        return passes;
    }
}
