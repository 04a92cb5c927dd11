package zq.runtime;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

import java.util.HashMap;
import java.util.Map;

/**
 * Native fp32 memory for the runtime's gemms, kept from call to call in named slots that only ever grow.
 * Freshly allocated native memory costs a page fault per 4 KB on first touch, seconds for the weights
 * of one 7B-wide layer, so every layer reuses the slots of the one before (the shapes repeat). Values
 * are copied in and out in bulk ({@link OffHeapMatrix}), and products go straight to sgemm
 * ({@link Blas#gemm}). Not thread-safe; close it to free the memory.
 */
public final class NativeWorkspace implements AutoCloseable {
    private final Map<String, OffHeapMatrix> slots = new HashMap<>();

    /** Copies a row-major {@code [rows × cols]} matrix into {@code slot}; valid until the slot is loaded again. */
    public NativeMatrix load(String slot, float[] values, int rows, int cols) {
        return new NativeMatrix(this, copyIn(slot, values, rows, cols));
    }

    /**
     * {@code out[n × w.rows] = x[n×k] · wᵀ} (or {@code out[n × w.cols] = x · w} when {@code !transposeW}),
     * through the slots {@code gemm-a} and {@code gemm-c}.
     */
    void multiply(float[] x, int n, int k, OffHeapMatrix w, boolean transposeW, float[] out) {
        int cols = transposeW ? w.rows() : w.cols();
        if ((transposeW ? w.cols() : w.rows()) != k) {
            throw new IllegalArgumentException("activations are " + k + " wide, the matrix is " + w.rows() + "×" + w.cols());
        }
        if (out.length != (long) n * cols) {
            throw new IllegalArgumentException("output has " + out.length + " values, expected " + n + "×" + cols);
        }
        OffHeapMatrix a = copyIn("gemm-a", x, n, k);
        OffHeapMatrix c = matrix("gemm-c", n, cols);
        Blas.gemm(1f, a, false, w, transposeW, 0f, c);
        c.read(out, 0);
    }

    /** Copies a row-major {@code [rows × cols]} array into {@code slot}, as {@link #matrix} returns it. */
    public OffHeapMatrix copyIn(String slot, float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("matrix has " + values.length + " values, expected " + rows + "×" + cols);
        }
        OffHeapMatrix m = matrix(slot, rows, cols);
        m.write(values);
        return m;
    }

    /**
     * A row-major {@code [rows × cols]} matrix over the start of the slot's memory (contents undefined),
     * valid until the slot grows or the workspace is closed.
     */
    public OffHeapMatrix matrix(String slot, int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("matrix shape must be positive, got " + rows + "×" + cols);
        OffHeapMatrix buf = slots.get(slot);
        if (buf == null || buf.size() < (long) rows * cols) {
            if (buf != null) buf.close();
            buf = OffHeapMatrix.uninitialized(rows, cols);
            slots.put(slot, buf);
        }
        return buf.reshape(rows, cols);
    }

    /** Frees every slot; the workspace stays usable and allocates a slot again when it is next asked for. */
    @Override public void close() {
        slots.values().forEach(OffHeapMatrix::close);
        slots.clear();
    }
}
