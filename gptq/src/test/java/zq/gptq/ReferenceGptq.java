package zq.gptq;

import java.util.Arrays;
import java.util.Comparator;

/**
 * GPTQ written plainly in float64 for the tests, straight from the reference algorithm (IST gptq.py /
 * AutoGPTQ fasterquant) without blocks: full H⁻¹ from a hand-written Cholesky, U = upper Cholesky of
 * H⁻¹, then one column at a time with the error spread over every later column.
 *
 * <p>The only concession to blocking is the reference's documented quirk: a dynamic group's grid is
 * fitted on W as it stood at the start of the 128-column block containing the group's first column.
 * In this unblocked loop that is a snapshot of W taken whenever p is a multiple of the block size.
 */
final class ReferenceGptq {
    final byte[] codes;      // [out][in], original order
    final double[] scales;   // [G][out]
    final int[] zeros;       // [G][out]
    final int[] gIdx;
    final double[] deq;      // [out][in], float64 scales
    final int[] perm;
    final double[] ratio;    // [out][in], original order: w/scale just before rounding

    private ReferenceGptq(byte[] codes, double[] scales, int[] zeros, int[] gIdx, double[] deq, int[] perm,
                          double[] ratio) {
        this.ratio = ratio;
        this.codes = codes;
        this.scales = scales;
        this.zeros = zeros;
        this.gIdx = gIdx;
        this.deq = deq;
        this.perm = perm;
    }

    static ReferenceGptq run(float[] weight, int out, int in, float[] hessian, int groupSize, boolean descAct,
                             boolean staticGroups, boolean sym, double dampFraction, int blockSize) {
        double[][] w = new double[out][in];
        for (int r = 0; r < out; r++) for (int j = 0; j < in; j++) w[r][j] = weight[r * in + j];
        double[][] h = new double[in][in];
        for (int i = 0; i < in; i++) for (int j = 0; j < in; j++) h[i][j] = hessian[i * in + j];
        int gs = groupSize == -1 ? in : groupSize;
        int groups = in / gs;
        double[] scales = new double[groups * out];
        int[] zeros = new int[groups * out];
        if (groupSize == -1) {
            for (int r = 0; r < out; r++) fit(w[r], 0, in, sym, scales, zeros, r);
        }
        for (int j = 0; j < in; j++) {
            if (h[j][j] == 0) {
                h[j][j] = 1;
                for (int r = 0; r < out; r++) w[r][j] = 0;
            }
        }
        boolean isStatic = groupSize != -1 && staticGroups;
        if (isStatic) {
            for (int r = 0; r < out; r++) for (int g = 0; g < groups; g++) fit(w[r], g * gs, gs, sym, scales, zeros, g * out + r);
        }
        Integer[] order = new Integer[in];
        for (int i = 0; i < in; i++) order[i] = i;
        if (descAct) {
            final double[][] hh = h;
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -hh[i][i]));
        }
        int[] perm = Arrays.stream(order).mapToInt(Integer::intValue).toArray();
        double[][] wp = new double[out][in];
        double[][] hp = new double[in][in];
        for (int r = 0; r < out; r++) for (int p = 0; p < in; p++) wp[r][p] = w[r][perm[p]];
        for (int a = 0; a < in; a++) for (int b = 0; b < in; b++) hp[a][b] = h[perm[a]][perm[b]];
        double mean = 0;
        for (int i = 0; i < in; i++) mean += hp[i][i];
        mean /= in;
        for (int i = 0; i < in; i++) hp[i][i] += dampFraction * mean;
        double[][] u = upperCholeskyOfInverse(hp);

        byte[] codes = new byte[out * in];
        double[] ratio = new double[out * in];
        double[][] snapshot = null;
        for (int p = 0; p < in; p++) {
            if (p % blockSize == 0) snapshot = copy(wp);
            boolean dynamic = groupSize != -1 && !isStatic;
            if (dynamic && p % gs == 0) {
                for (int r = 0; r < out; r++) fit(snapshot[r], p, gs, sym, scales, zeros, (p / gs) * out + r);
            }
            int g = groupSize == -1 ? 0 : dynamic ? p / gs : perm[p] / gs;
            double d = u[p][p];
            for (int r = 0; r < out; r++) {
                double s = scales[g * out + r];
                int z = zeros[g * out + r];
                ratio[r * in + perm[p]] = wp[r][p] / s;
                int q = (int) Math.min(15, Math.max(0, Math.rint(wp[r][p] / s) + z));
                codes[r * in + perm[p]] = (byte) q;
                double e = (wp[r][p] - s * (q - z)) / d;
                for (int j = p; j < in; j++) wp[r][j] -= e * u[p][j];
            }
        }
        int[] gIdx = new int[in];
        for (int p = 0; p < in; p++) gIdx[perm[p]] = isStatic ? perm[p] / gs : p / gs;
        double[] deq = new double[out * in];
        for (int r = 0; r < out; r++) {
            for (int j = 0; j < in; j++) {
                int k = gIdx[j] * out + r;
                deq[r * in + j] = scales[k] * (codes[r * in + j] - zeros[k]);
            }
        }
        return new ReferenceGptq(codes, scales, zeros, gIdx, deq, perm, ratio);
    }

    private static void fit(double[] x, int off, int len, boolean sym, double[] scales, int[] zeros, int at) {
        double xmin = 0;
        double xmax = 0;
        for (int i = off; i < off + len; i++) {
            xmin = Math.min(xmin, x[i]);
            xmax = Math.max(xmax, x[i]);
        }
        if (sym) {
            xmax = Math.max(-xmin, xmax);
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        scales[at] = (xmax - xmin) / 15;
        zeros[at] = sym ? 8 : (int) Math.rint(-xmin / scales[at]);
    }

    /** U with H⁻¹ = UᵀU: L = chol(H), H⁻¹ = L⁻ᵀL⁻¹, then U = chol(H⁻¹)ᵀ. */
    static double[][] upperCholeskyOfInverse(double[][] h) {
        int n = h.length;
        double[][] l = cholesky(h);
        double[][] linv = new double[n][n]; // L⁻¹ by forward substitution
        for (int c = 0; c < n; c++) {
            for (int i = 0; i < n; i++) {
                double s = i == c ? 1 : 0;
                for (int k = 0; k < i; k++) s -= l[i][k] * linv[k][c];
                linv[i][c] = s / l[i][i];
            }
        }
        double[][] hinv = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = Math.max(i, j); k < n; k++) s += linv[k][i] * linv[k][j];
                hinv[i][j] = s;
            }
        }
        double[][] l2 = cholesky(hinv);
        double[][] u = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = i; j < n; j++) u[i][j] = l2[j][i];
        return u;
    }

    static double[][] cholesky(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) s -= l[i][k] * l[j][k];
                if (i == j) {
                    if (!(s > 0)) throw new ArithmeticException("not positive definite at " + i);
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        return l;
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }
}
