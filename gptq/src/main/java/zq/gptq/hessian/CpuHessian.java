package zq.gptq.hessian;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/** H through OpenBLAS ssyrk on native memory: only the lower triangle is computed. */
public final class CpuHessian extends RunningHessian {
    /** H's lower triangle; null once {@link #takeLowerTriangle} handed it over. */
    private OffHeapMatrix h;
    private OffHeapMatrix batch;

    public CpuHessian(int features) {
        super(features);
        this.h = OffHeapMatrix.zeros(features, features);
    }

    @Override
    protected void accumulateLower(float[] x, int rows, float alpha, float beta) {
        OffHeapMatrix m = matrix();
        if (batch == null || batch.rows() < rows) {
            if (batch != null) batch.close();
            batch = OffHeapMatrix.uninitialized(rows, n); // written whole before each product
        }
        OffHeapMatrix xs = batch.view(0, 0, rows, n);
        xs.write(x);
        Blas.syrkLowerAtA(alpha, xs, beta, m);
    }

    @Override
    public float[] hessian() {
        float[] a = matrix().toArray();
        // ssyrk leaves the upper triangle as it was (zero); only the lower one is H
        return mirrorLower(a, n);
    }

    @Override
    public OffHeapMatrix takeLowerTriangle() {
        OffHeapMatrix m = matrix();
        h = null;
        if (batch != null) {
            batch.close();
            batch = null;
        }
        return m;
    }

    private OffHeapMatrix matrix() {
        if (h == null) throw new IllegalStateException("the Hessian was already taken from this accumulator");
        return h;
    }

    @Override
    public String device() {
        return "CPU (OpenBLAS ssyrk)";
    }

    @Override
    public void close() {
        if (h != null) h.close();
        if (batch != null) batch.close();
    }
}
