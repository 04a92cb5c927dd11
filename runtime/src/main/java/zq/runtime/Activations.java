package zq.runtime;

import java.util.List;

/**
 * Hidden states of a batch of windows between two layers: one row-major {@code [length × width]} array
 * per window. Windows may differ in length (the last one of a token stream is often shorter).
 */
public record Activations(int width, List<float[]> windows) {

    public Activations {
        windows = List.copyOf(windows);
        for (int i = 0; i < windows.size(); i++) {
            if (windows.get(i).length == 0 || windows.get(i).length % width != 0) {
                throw new IllegalArgumentException("window " + i + " has " + windows.get(i).length
                        + " values, not a positive whole number of rows of width " + width);
            }
        }
    }

    public int windowCount() { return windows.size(); }

    public int length(int window) { return windows.get(window).length / width; }

    /** Total rows (tokens) over all windows. */
    public long rows() {
        long n = 0;
        for (float[] w : windows) n += w.length / width;
        return n;
    }
}
