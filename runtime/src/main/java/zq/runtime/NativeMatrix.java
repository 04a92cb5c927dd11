package zq.runtime;

import zq.runtime.linalg.OffHeapMatrix;

/**
 * A weight matrix resident in a {@link NativeWorkspace} slot, copied there once so that many blocks
 * of activations can be multiplied by it without copying it again. Valid until its slot is loaded
 * again or the workspace is closed.
 */
public final class NativeMatrix {
    private final NativeWorkspace workspace;
    private final OffHeapMatrix m;

    NativeMatrix(NativeWorkspace workspace, OffHeapMatrix m) {
        this.workspace = workspace;
        this.m = m;
    }

    public int rows() { return m.rows(); }

    public int cols() { return m.cols(); }

    /** {@code x[n×cols] · thisᵀ}, row-major {@code [n×rows]}: activations times a Linear's {@code [out, in]} weight. */
    public float[] multiplyTransposed(float[] x, int n) {
        float[] out = new float[Math.multiplyExact(n, m.rows())];
        multiplyTransposed(x, n, out);
        return out;
    }

    /** As {@link #multiplyTransposed(float[], int)}, into {@code out} ({@code n·rows} values) instead of a new array. */
    public void multiplyTransposed(float[] x, int n, float[] out) {
        if (x.length != (long) n * m.cols()) {
            throw new IllegalArgumentException("activations have " + x.length + " values, expected " + n + "×" + m.cols());
        }
        workspace.multiply(x, n, m.cols(), m, true, out);
    }
}
