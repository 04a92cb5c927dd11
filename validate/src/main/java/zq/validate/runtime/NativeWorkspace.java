package zq.validate.runtime;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Native fp32 memory for ND4J gemms, kept from call to call in named slots that only ever grow.
 * Freshly allocated native memory costs a page fault per 4 KB on first touch, seconds for the weights
 * of one 7B-wide layer, so every layer reuses the slots of the one before (the shapes repeat).
 * Values are copied in and out in bulk through native-order buffer views: Nd4j.create(float[]) and
 * DataBuffer.asFloat() copy element by element. Not thread-safe; close it to free the memory.
 */
public final class NativeWorkspace implements AutoCloseable {
    private final Map<String, INDArray> slots = new HashMap<>();

    /** Copies a row-major {@code [rows × cols]} matrix into {@code slot}; valid until the slot is loaded again. */
    public NativeMatrix load(String slot, float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("matrix has " + values.length + " values, expected " + rows + "×" + cols);
        }
        INDArray m = matrix(slot, rows, cols);
        floats(m).put(values);
        return new NativeMatrix(this, m, rows, cols);
    }

    /** {@code a[m×k] · b[n×k]ᵀ} or, when {@code !transposeB}, {@code a[m×k] · b[k×n]}: row-major {@code [m×n]}. */
    public float[] gemm(float[] a, int m, int k, float[] b, int n, boolean transposeB) {
        if (b.length != (long) n * k) throw new IllegalArgumentException("B has " + b.length + " values, expected " + n * k);
        INDArray bm = transposeB ? matrix("gemm-b", n, k) : matrix("gemm-b", k, n);
        floats(bm).put(b);
        return multiply(a, m, k, bm, n, transposeB);
    }

    /** {@code x[n×k] · w} with {@code w} {@code [rows×k]} transposed (or {@code [k×rows]} as is). */
    float[] multiply(float[] x, int n, int k, INDArray w, int rows, boolean transposeW) {
        if (x.length != (long) n * k) throw new IllegalArgumentException("activations have " + x.length + " values, expected " + n + "×" + k);
        INDArray a = matrix("gemm-a", n, k);
        floats(a).put(x);
        INDArray c = matrix("gemm-c", n, rows);
        Nd4j.gemm(a, w, c, false, transposeW, 1.0, 0.0);
        float[] out = new float[Math.multiplyExact(n, rows)];
        floats(c).get(out);
        return out;
    }

    /** A c-order {@code [rows × cols]} matrix over the start of the slot's memory (contents undefined). */
    private INDArray matrix(String slot, int rows, int cols) {
        long need = (long) rows * cols;
        INDArray buf = slots.get(slot);
        if (buf == null || buf.length() < need) {
            if (buf != null) buf.close();
            buf = Nd4j.createUninitialized(DataType.FLOAT, Math.max(need, 1));
            slots.put(slot, buf);
        }
        return Nd4j.create(buf.data(), new long[]{rows, cols}, new long[]{cols, 1}, 0, 'c');
    }

    /** The first rows×cols values of the array's memory, native byte order. */
    private static FloatBuffer floats(INDArray m) {
        FloatBuffer f = m.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.limit((int) m.length());
        return f;
    }

    @Override public void close() {
        slots.values().forEach(INDArray::close);
        slots.clear();
    }
}
