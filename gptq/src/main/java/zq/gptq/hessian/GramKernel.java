package zq.gptq.hessian;

import com.aparapi.Range;
import com.aparapi.device.Device;

/**
 * Aparapi kernel for the lower triangle of H ← beta·H + alpha·XᵀX, X being [rows][n] row-major.
 *
 * <p>Each work-group of 16×16 work-items owns a 64×64 tile of H and each work-item a 4×4 register
 * tile of it (rows ty+16a, columns tx+16b). The two 16×64 panels of X that the tile needs are staged
 * in local memory, 16 tokens at a time, with coalesced loads along the feature axis. Work-groups whose
 * tile lies wholly above the diagonal exit at once; on diagonal tiles only j ≤ i is written.
 * A per-element kernel with no reuse runs about 100× slower (docs/blas.md, "Aparapi, POCL and libjsig").
 */
final class GramKernel extends GramKernelBase {
    static final int TILE = 64;
    static final int LOCAL = 16;
    static final int KC = 16;

    @Local final float[] xa = new float[KC * TILE];
    @Local final float[] xb = new float[KC * TILE];

    GramKernel(int n, int capacityRows) {
        super(n, capacityRows);
    }

    @Override
    Range range(Device device) {
        int global = (n + TILE - 1) / TILE * LOCAL;
        return device.createRange2D(global, global, LOCAL, LOCAL);
    }

    @Override
    public void run() {
        int ti = getGroupId(1);
        int tj = getGroupId(0);
        if (tj <= ti) {
            int tx = getLocalId(0);
            int ty = getLocalId(1);
            int lid = ty * LOCAL + tx;
            int rowBase = ti * TILE;
            int colBase = tj * TILE;
            float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
            float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
            float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
            float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
            for (int k0 = 0; k0 < rows; k0 += KC) {
                for (int l = 0; l < 4; l++) {
                    int e = lid + l * LOCAL * LOCAL;
                    int kk = e / TILE;
                    int cc = e - kk * TILE;
                    int k = k0 + kk;
                    float va = 0f;
                    float vb = 0f;
                    if (k < rows) {
                        if (rowBase + cc < n) va = x[k * n + rowBase + cc];
                        if (colBase + cc < n) vb = x[k * n + colBase + cc];
                    }
                    xa[e] = va;
                    xb[e] = vb;
                }
                localBarrier();
                for (int kk = 0; kk < KC; kk++) {
                    int o = kk * TILE;
                    float a0 = xa[o + ty];
                    float a1 = xa[o + ty + 16];
                    float a2 = xa[o + ty + 32];
                    float a3 = xa[o + ty + 48];
                    float b0 = xb[o + tx];
                    float b1 = xb[o + tx + 16];
                    float b2 = xb[o + tx + 32];
                    float b3 = xb[o + tx + 48];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                localBarrier();
            }
            store(rowBase + ty, colBase + tx, c00, c01, c02, c03);
            store(rowBase + ty + 16, colBase + tx, c10, c11, c12, c13);
            store(rowBase + ty + 32, colBase + tx, c20, c21, c22, c23);
            store(rowBase + ty + 48, colBase + tx, c30, c31, c32, c33);
        }
    }

    private void store(int i, int j, float v0, float v1, float v2, float v3) {
        if (i < n) {
            storeOne(i, j, v0);
            storeOne(i, j + 16, v1);
            storeOne(i, j + 32, v2);
            storeOne(i, j + 48, v3);
        }
    }

    private void storeOne(int i, int j, float v) {
        if (j <= i && j < n) {
            int at = i * n + j;
            h[at] = beta * h[at] + alpha * v;
        }
    }
}
