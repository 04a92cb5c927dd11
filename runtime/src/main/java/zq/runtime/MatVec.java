package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.LinearRef;

/**
 * A weight matrix {@code W [rows × cols]} that multiplies one vector at a time, {@code y = W·x}, reading the
 * weights in the form they are stored in: what decoding one token needs. Decoding is bound by memory
 * bandwidth, so the product reads each stored byte once and never materialises fp32 weights.
 */
public interface MatVec {
    int rows();

    int cols();

    /** {@code y[rows] = W · x[cols]}. */
    void multiply(float[] x, float[] y);

    /** Bytes of stored weights one product reads: what bounds its speed. */
    long storedBytes();

    /** The weight of a Linear as stored in {@code checkpoint}: dense BF16/F16/F32 rows, or GPTQ Int4. */
    static MatVec of(Checkpoint checkpoint, LinearRef ref) {
        return checkpoint.config().quantization() == null ? MappedMatrix.of(checkpoint, ref.weight())
                : Int4Matrix.of(checkpoint, ref);
    }
}
