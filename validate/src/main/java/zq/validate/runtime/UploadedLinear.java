package zq.validate.runtime;

/** A {@link Linear} whose weight sits in native memory for the duration of one layer's forward. */
final class UploadedLinear implements AutoCloseable {
    private final Linear linear;
    private final NativeMatrix weight;

    UploadedLinear(Linear linear) {
        this.linear = linear;
        this.weight = NativeMatrix.of(linear.weight(), linear.outFeatures(), linear.inFeatures());
    }

    /** {@code x[rows × in] · Wᵀ + b}. */
    float[] apply(float[] x, int rows) {
        float[] y = weight.multiplyTransposed(x, rows);
        float[] b = linear.bias();
        if (b != null) {
            int out = b.length;
            for (int r = 0; r < rows; r++) for (int i = 0; i < out; i++) y[r * out + i] += b[i];
        }
        return y;
    }

    @Override public void close() { weight.close(); }
}
