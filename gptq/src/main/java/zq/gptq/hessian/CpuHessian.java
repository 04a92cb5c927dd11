package zq.gptq.hessian;

import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/** H through OpenBLAS ssyrk on native memory: only the lower triangle is computed. */
public final class CpuHessian extends RunningHessian {
    private final OffHeapMatrix h;
    private OffHeapMatrix batch;

    public CpuHessian(int features) {
        super(features);
        this.h = OffHeapMatrix.zeros(features, features);
    }

    @Override
    protected void accumulateLower(float[] x, int rows, float alpha, float beta) {
        if (batch == null || batch.rows() < rows) {
            if (batch != null) batch.close();
            batch = OffHeapMatrix.uninitialized(rows, n); // written whole before each product
        }
        OffHeapMatrix xs = batch.view(0, 0, rows, n);
        xs.write(x);
        Blas.syrkLowerAtA(alpha, xs, beta, h);
    }

    @Override
    public float[] hessian() {
        float[] a = h.toArray();
        // ssyrk leaves the upper triangle as it was (zero); only the lower one is H
        return mirrorLower(a, n);
    }

    @Override
    public String device() {
        return "CPU (OpenBLAS ssyrk)";
    }

    @Override
    public void close() {
        h.close();
        if (batch != null) batch.close();
    }
}
