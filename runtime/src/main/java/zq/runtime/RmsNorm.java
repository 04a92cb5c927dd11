package zq.runtime;

import java.util.stream.IntStream;

/** RMSNorm as Llama/Qwen2 compute it in fp32: {@code x · rsqrt(mean(x²) + eps) · w}. */
public final class RmsNorm {
    private RmsNorm() {}

    /** Normalizes each row of {@code x [rows × weight.length]} into a new array. */
    public static float[] apply(float[] x, int rows, float[] weight, double eps) {
        int dim = weight.length;
        if (x.length != (long) rows * dim) {
            throw new IllegalArgumentException("RMSNorm input has " + x.length + " values, expected " + rows + "×" + dim);
        }
        float[] out = new float[x.length];
        IntStream.range(0, rows).parallel().forEach(r -> {
            int b = r * dim;
            double ss = 0; // the mean of squares is summed in double: fp32 sums drift over 4096 terms
            for (int i = 0; i < dim; i++) ss += (double) x[b + i] * x[b + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) out[b + i] = weight[i] * (x[b + i] * inv);
        });
        return out;
    }
}
