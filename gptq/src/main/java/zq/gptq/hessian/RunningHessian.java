package zq.gptq.hessian;

import java.util.stream.IntStream;

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
        // in tiles, so that the column-wise writes of the upper triangle stay within a few cache lines per row; each
        // tile of the upper triangle is written by one task only
        IntStream.range(0, (n + MIRROR_TILE - 1) / MIRROR_TILE).parallel().forEach(ti -> {
            int i0 = ti * MIRROR_TILE;
            int i1 = Math.min(n, i0 + MIRROR_TILE);
            for (int j0 = 0; j0 < i1; j0 += MIRROR_TILE) {
                for (int i = i0; i < i1; i++) {
                    int row = i * n;
                    for (int j = j0, j1 = Math.min(i, j0 + MIRROR_TILE); j < j1; j++) h[j * n + i] = h[row + j];
                }
            }
        });
        return h;
    }

    private static final int MIRROR_TILE = 64;
}
