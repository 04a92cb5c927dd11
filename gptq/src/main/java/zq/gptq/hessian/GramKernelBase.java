package zq.gptq.hessian;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.Device;

/**
 * The buffers and scalars shared by the Aparapi Gram kernels: they compute the lower triangle of
 * H ← beta·H + alpha·XᵀX for X = x[0..rows)[0..n) row-major, H = h[n][n] row-major.
 */
abstract class GramKernelBase extends Kernel {
    float[] x;
    float[] h;
    int n;
    int rows;
    float alpha;
    float beta;

    GramKernelBase(int n, int capacityRows) {
        this.n = n;
        this.x = new float[capacityRows * n];
        this.h = new float[n * n];
    }

    /** The launch geometry for this kernel on an n-wide H. */
    abstract Range range(Device device);
}
