package zq.validate;

import zq.runtime.Activations;
import zq.runtime.LayerStream;

import java.util.List;

/**
 * The positions of a batch of windows that predict a next token (all but each window's last), their
 * final-normed hidden states and the tokens they should predict.
 */
final class NextTokenStates {
    private NextTokenStates() {}

    /** Runs every layer over {@code windows} and returns the final-normed states of predicting positions, {@code [P × hidden]}. */
    static float[] compute(LayerStream stream, List<int[]> windows) {
        Activations x = stream.forwardAllLayers(stream.embed(windows));
        int h = x.width();
        int rows = (int) TokenWindows.predicted(windows);
        float[] kept = new float[Math.multiplyExact(rows, h)];
        int at = 0;
        for (int w = 0; w < windows.size(); w++) {
            int n = (windows.get(w).length - 1) * h;
            System.arraycopy(x.windows().get(w), 0, kept, at, n);
            at += n;
        }
        return stream.finalNorm(kept, rows);
    }

    /** Token {@code t+1} for each predicting position {@code t}, windows back to back. */
    static int[] targets(List<int[]> windows) {
        int[] t = new int[(int) TokenWindows.predicted(windows)];
        int at = 0;
        for (int[] w : windows) {
            System.arraycopy(w, 1, t, at, w.length - 1);
            at += w.length - 1;
        }
        return t;
    }
}
