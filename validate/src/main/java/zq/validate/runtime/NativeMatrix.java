package zq.validate.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A row-major fp32 matrix copied once into ND4J's native memory, so that many blocks of activations
 * can be multiplied by it without copying it again (Blas copies both operands on every call, which
 * would dominate for a 32000×4096 output head applied chunk by chunk). Close it to free the memory
 * at once instead of waiting for the garbage collector.
 */
public final class NativeMatrix implements AutoCloseable {
    private final INDArray m;
    private final int rows, cols;

    private NativeMatrix(INDArray m, int rows, int cols) {
        this.m = m;
        this.rows = rows;
        this.cols = cols;
    }

    public static NativeMatrix of(float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("matrix has " + values.length + " values, expected " + rows + "×" + cols);
        }
        return new NativeMatrix(Nd4j.create(values, new long[]{rows, cols}, 'c'), rows, cols);
    }

    public int rows() { return rows; }

    public int cols() { return cols; }

    /** {@code x[n×cols] · thisᵀ}, row-major {@code [n×rows]}: activations times a Linear's {@code [out, in]} weight. */
    public float[] multiplyTransposed(float[] x, int n) {
        if (x.length != (long) n * cols) {
            throw new IllegalArgumentException("activations have " + x.length + " values, expected " + n + "×" + cols);
        }
        try (INDArray a = Nd4j.create(x, new long[]{n, cols}, 'c');
             INDArray c = Nd4j.createUninitialized(DataType.FLOAT, n, rows)) {
            Nd4j.gemm(a, m, c, false, true, 1.0, 0.0);
            return c.data().asFloat();
        }
    }

    @Override public void close() { m.close(); }
}
