package zq.gptq.hessian;

/** The running-average bookkeeping and argument checks shared by the accumulators. */
abstract class RunningHessian implements HessianAccumulator {
    protected final int n;
    private long tokens;

    RunningHessian(int features) {
        if (features <= 0 || (long) features * features > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Hessian width " + features + " must be in [1, 46340]");
        }
        this.n = features;
    }

    @Override
    public final int features() {
        return n;
    }

    @Override
    public final long tokens() {
        return tokens;
    }

    @Override
    public final void add(float[] x, int rows, int cols) {
        if (cols != n) {
            throw new IllegalArgumentException("activations have " + cols + " features, the Hessian has " + n);
        }
        if (rows < 0 || x.length != (long) rows * cols) {
            throw new IllegalArgumentException("activation array has " + x.length + " elements, expected "
                    + rows + "x" + cols);
        }
        if (rows == 0) return;
        long total = tokens + rows;
        // H *= n/(n+t); H += (sqrt(2/(n+t))·X)ᵀ(sqrt(2/(n+t))·X)
        float beta = (float) ((double) tokens / total);
        float alpha = (float) (2.0 / total);
        accumulateLower(x, rows, alpha, beta);
        tokens = total;
    }

    /** Lower triangle of H ← beta·H + alpha·XᵀX. */
    protected abstract void accumulateLower(float[] x, int rows, float alpha, float beta);

    /** Copies the lower triangle of a row-major n×n array onto its upper triangle. */
    static float[] mirrorLower(float[] h, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) h[j * n + i] = h[i * n + j];
        }
        return h;
    }
}
