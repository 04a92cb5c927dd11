package zq.gptq;

/**
 * The per-row min-max integer grid of AutoGPTQ's Quantizer (find_params with weight=True and
 * perchannel=True, then quantize), reproduced in float32 with its quirks:
 * <ul>
 *   <li>the range always contains 0 (xmin = min(min x, 0), xmax = max(max x, 0));</li>
 *   <li>sym mirrors the range only when xmin &lt; 0, yet always uses zero = (maxq+1)/2, so a non-negative
 *       group gets scale = xmax/maxq with zero 8 and clips above 7·scale;</li>
 *   <li>an all-zero row or group gets the range [-1, 1];</li>
 *   <li>rounding is torch.round, half to even ({@link Math#rint}), applied to x/scale before the zero is added.</li>
 * </ul>
 * The optional MSE search (norm 2.4, grid 100, maxshrink 0.8) tries shrunk ranges p·[xmin, xmax] for
 * p = 1, 0.99, ..., 0.21 and keeps the first one with strictly smallest sum |q(x) - x|^2.4.
 */
public final class QuantGrid {
    static final float MSE_NORM = 2.4f;
    static final int MSE_GRID = 100;
    static final double MSE_MAX_SHRINK = 0.8;

    private final int maxq;
    private final boolean sym;
    private final boolean mse;

    /** The scale and integer zero point of one row (or one group of a row). */
    public record RowGrid(float scale, int zero) {}

    public QuantGrid(int maxq, boolean sym, boolean mse) {
        if (maxq <= 0) throw new IllegalArgumentException("maxq must be positive, got " + maxq);
        this.maxq = maxq;
        this.sym = sym;
        this.mse = mse;
    }

    public static QuantGrid of(GptqConfig config) {
        return new QuantGrid(config.maxq(), config.sym(), config.mse());
    }

    public int maxq() {
        return maxq;
    }

    /** find_params over x[off, off+len): one row of a weight slice. */
    public RowGrid fit(float[] x, int off, int len) {
        float xmin = 0f;
        float xmax = 0f;
        for (int i = off; i < off + len; i++) {
            float v = x[i];
            if (v < xmin) xmin = v;
            if (v > xmax) xmax = v;
        }
        if (sym) {
            xmax = Math.max(Math.abs(xmin), xmax);
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0f && xmax == 0f) {
            xmin = -1f;
            xmax = 1f;
        }
        float scale = (xmax - xmin) / maxq;
        int zero = zeroFor(xmin, scale);
        if (!mse) return new RowGrid(scale, zero);

        double best = Double.POSITIVE_INFINITY;
        int steps = (int) (MSE_MAX_SHRINK * MSE_GRID);
        for (int i = 0; i < steps; i++) {
            float p = (float) (1.0 - (double) i / MSE_GRID); // torch casts the Python scalar to the tensor's fp32
            float xmin1 = p * xmin;
            float xmax1 = p * xmax;
            float scale1 = (xmax1 - xmin1) / maxq;
            int zero1 = zeroFor(xmin1, scale1);
            double err = 0;
            for (int c = off; c < off + len; c++) {
                float d = quantize(x[c], scale1, zero1) - x[c];
                err += Math.pow(Math.abs(d), MSE_NORM);
            }
            if (err < best) {
                best = err;
                scale = scale1;
                zero = zero1;
            }
        }
        return new RowGrid(scale, zero);
    }

    private int zeroFor(float xmin, float scale) {
        return sym ? (maxq + 1) / 2 : (int) Math.rint(-xmin / scale);
    }

    /** The integer code clamp(round(x/scale) + zero, 0, maxq). */
    public int code(float x, float scale, int zero) {
        float q = (float) Math.rint(x / scale) + zero;
        if (q < 0f) return 0;
        if (q > maxq) return maxq;
        return (int) q;
    }

    /** The grid value of a code: scale·(q - zero), in float32. */
    public static float dequantize(int q, float scale, int zero) {
        return scale * (float) (q - zero);
    }

    /** quantize() of the reference: the grid value nearest x (after clamping). */
    public float quantize(float x, float scale, int zero) {
        return dequantize(code(x, scale, zero), scale, zero);
    }
}
