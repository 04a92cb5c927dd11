package zq.gptq.hessian;

import com.aparapi.Range;
import com.aparapi.device.Device;

/**
 * Aparapi kernel for the lower triangle of H ← beta·H + alpha·XᵀX without local memory or barriers,
 * for OpenCL on CPUs (POCL): work-item (j, b) accumulates column j of rows 8b..8b+7 in registers,
 * walking the tokens. Neighbouring work-items read neighbouring x[k][j] and share the broadcast
 * x[k][8b+r]. CPU runtimes run work-group barriers as loop fission, which the tiled kernel is full of.
 */
final class RowGramKernel extends GramKernelBase {
    static final int ROWS = 8;
    static final int LOCAL = 64;

    RowGramKernel(int n, int capacityRows) {
        super(n, capacityRows);
    }

    @Override
    Range range(Device device) {
        return device.createRange2D((n + LOCAL - 1) / LOCAL * LOCAL, (n + ROWS - 1) / ROWS, LOCAL, 1);
    }

    @Override
    public void run() {
        int j = getGlobalId(0);
        int i0 = getGlobalId(1) * ROWS;
        // skip only whole work-groups (uniform branch), so the token loop stays free of divergence
        if (getGroupId(0) * LOCAL < i0 + ROWS) {
            // columns and rows past n read index n-1 (in bounds) and are never stored
            int jj = Math.min(j, n - 1);
            int r1 = Math.min(i0 + 1, n - 1);
            int r2 = Math.min(i0 + 2, n - 1);
            int r3 = Math.min(i0 + 3, n - 1);
            int r4 = Math.min(i0 + 4, n - 1);
            int r5 = Math.min(i0 + 5, n - 1);
            int r6 = Math.min(i0 + 6, n - 1);
            int r7 = Math.min(i0 + 7, n - 1);
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
            for (int k = 0; k < rows; k++) {
                int base = k * n;
                float xj = x[base + jj];
                a0 += x[base + i0] * xj;
                a1 += x[base + r1] * xj;
                a2 += x[base + r2] * xj;
                a3 += x[base + r3] * xj;
                a4 += x[base + r4] * xj;
                a5 += x[base + r5] * xj;
                a6 += x[base + r6] * xj;
                a7 += x[base + r7] * xj;
            }
            storeOne(i0, j, a0);
            storeOne(i0 + 1, j, a1);
            storeOne(i0 + 2, j, a2);
            storeOne(i0 + 3, j, a3);
            storeOne(i0 + 4, j, a4);
            storeOne(i0 + 5, j, a5);
            storeOne(i0 + 6, j, a6);
            storeOne(i0 + 7, j, a7);
        }
    }

    private void storeOne(int i, int j, float v) {
        if (i < n && j <= i && j < n) {
            int at = i * n + j;
            h[at] = beta * h[at] + alpha * v;
        }
    }
}
