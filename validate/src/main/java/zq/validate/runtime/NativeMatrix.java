package zq.validate.runtime;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A weight matrix resident in a {@link NativeWorkspace} slot, copied there once so that many blocks
 * of activations can be multiplied by it without copying it again. Valid until its slot is loaded
 * again or the workspace is closed.
 */
public final class NativeMatrix {
    private final NativeWorkspace workspace;
    private final INDArray m;
    private final int rows, cols;

    NativeMatrix(NativeWorkspace workspace, INDArray m, int rows, int cols) {
        this.workspace = workspace;
        this.m = m;
        this.rows = rows;
        this.cols = cols;
    }

    public int rows() { return rows; }

    public int cols() { return cols; }

    /** {@code x[n×cols] · thisᵀ}, row-major {@code [n×rows]}: activations times a Linear's {@code [out, in]} weight. */
    public float[] multiplyTransposed(float[] x, int n) {
        return workspace.multiply(x, n, cols, m, rows, true);
    }
}
