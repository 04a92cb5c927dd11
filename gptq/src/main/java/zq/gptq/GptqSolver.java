package zq.gptq;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import zq.runtime.linalg.Blas;
import zq.runtime.linalg.Lapack;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * AutoGPTQ's {@code GPTQ.fasterquant} for one Linear layer (docs/gptq.md, "The GPTQ solve"), in float32.
 *
 * <p>Steps, in the reference's order: the whole-row grid is fitted before dead inputs are handled;
 * dead inputs (H[i][i] == 0) get H[i][i] = 1 and a zero weight column; static groups are fitted on
 * the unpermuted weights; act-order permutes by decreasing diag(H); H gets damp·mean(diag H) on its
 * diagonal; then L = chol(H), H⁻¹ = cholesky_inverse(L), U = upper chol(H⁻¹). Columns are quantised
 * in blocks: inside a block each column's error is spread over the block's later columns (rank-1
 * updates in Java), and after the block the whole error panel updates the trailing columns with one
 * sgemm. Dynamic groups are fitted at their first column from the global weights, which hold the
 * updates of earlier blocks but not of earlier columns of the current block, as in the reference.
 *
 * <p>Scales are float32 throughout the column loop, so the error fed back is w − scale·(q − zero) with the
 * float32 scale, as in AutoGPTQ. The result's {@link QuantizedLinear#dequantized()} instead uses the
 * fp16-rounded scale that the checkpoint stores, i.e. the weight every loader will decode; codes are
 * the same either way (AutoGPTQ's pack() recovers them from the fp16 weight and scale).
 *
 * <p>Every output row is independent given U, so the in-block work runs in parallel over rows; the
 * result does not depend on the number of threads.
 *
 * <p>Differences from the reference, all deliberate:
 * <ul>
 *   <li>act-order uses a stable sort (ties keep increasing column index). torch.argsort is not stable,
 *       so columns with exactly equal diag(H) may be visited in another order; the file format is the same.</li>
 *   <li>When a Cholesky step fails (AutoGPTQ raises), the damping is raised and the chain retried from the
 *       undamped H: attempt k (k = 0, 1, ...) uses damp fraction dampPercent·2^k, at most
 *       {@value #MAX_DAMP_ATTEMPTS} attempts. The fraction that worked is in the report.</li>
 *   <li>The U factor is never transposed in memory: the second factorisation leaves Uᵀ in the lower
 *       triangle, and the block update multiplies by it transposed.</li>
 * </ul>
 */
public final class GptqSolver {
    static final int MAX_DAMP_ATTEMPTS = 24;

    private final GptqConfig config;
    private final QuantGrid grid;

    public GptqSolver(GptqConfig config) {
        this.config = config;
        this.grid = QuantGrid.of(config);
    }

    public GptqConfig config() {
        return config;
    }

    /**
     * Quantises one layer.
     *
     * @param layer   name used in error messages (e.g. model.layers.0.self_attn.q_proj)
     * @param weight  W as float32, [out][in] row-major (nn.Linear layout); not modified
     * @param out     out_features
     * @param in      in_features
     * @param hessian H, [in][in] row-major, symmetric (only its lower triangle after permutation is read); not modified
     */
    public QuantizedLinear quantize(String layer, float[] weight, int out, int in, float[] hessian) {
        long t0 = System.nanoTime();
        checkInputs(layer, weight, out, in, hessian);
        int gs = config.effectiveGroupSize(in);
        int groups = in / gs;
        boolean dynamicGroups = config.grouped() && !config.staticGroups();
        float[] scales = new float[groups * out];
        int[] zeros = new int[groups * out];

        if (!config.grouped()) {
            for (int r = 0; r < out; r++) setGrid(scales, zeros, r, grid.fit(weight, r * in, in));
        }

        boolean[] dead = new boolean[in];
        float[] diag = new float[in];
        int deadCount = 0;
        for (int i = 0; i < in; i++) {
            diag[i] = hessian[i * in + i];
            if (diag[i] == 0f) {
                dead[i] = true;
                diag[i] = 1f;
                deadCount++;
            }
        }

        if (config.grouped() && config.staticGroups()) {
            float[] row = new float[in];
            for (int r = 0; r < out; r++) {
                copyRowZeroingDead(weight, r, in, dead, row);
                for (int g = 0; g < groups; g++) setGrid(scales, zeros, g * out + r, grid.fit(row, g * gs, gs));
            }
        }

        int[] perm = config.descAct() ? descendingOrder(diag) : IntStream.range(0, in).toArray();
        // group of each permuted position, for the grid lookup inside the column loop
        int[] groupAt = new int[in];
        for (int p = 0; p < in; p++) {
            groupAt[p] = !config.grouped() ? 0 : dynamicGroups ? p / gs : perm[p] / gs;
        }

        byte[] codes = new byte[out * in];
        double loss;
        Damping damping;
        long tf0;
        long tf1;
        int block = Math.min(config.blockSize(), in);
        try (OffHeapMatrix factor = OffHeapMatrix.zeros(in, in);
             OffHeapMatrix w = OffHeapMatrix.zeros(out, in);
             OffHeapMatrix err = OffHeapMatrix.zeros(out, block)) {
            tf0 = System.nanoTime();
            damping = factorInverseHessian(layer, hessian, in, perm, dead, diag, factor);
            tf1 = System.nanoTime();
            float[] row = new float[in];
            float[] permuted = new float[in];
            for (int r = 0; r < out; r++) {
                copyRowZeroingDead(weight, r, in, dead, row);
                for (int p = 0; p < in; p++) permuted[p] = row[perm[p]];
                w.writeRow(r, 0, permuted, 0, in);
            }
            BlockState st = new BlockState(out, in, gs, dynamicGroups, perm, groupAt, scales, zeros, codes, w, err);
            for (int i1 = 0; i1 < in; i1 += block) {
                int i2 = Math.min(i1 + block, in);
                st.run(i1, i2, factor);
                if (i2 < in) {
                    int count = i2 - i1;
                    Blas.gemm(-1f, err.view(0, 0, out, count), false, factor.view(i2, i1, in - i2, count), true,
                            1f, w.view(0, i2, out, in - i2));
                }
            }
            loss = st.totalLoss();
        }

        int[] gIdx = new int[in];
        for (int p = 0; p < in; p++) {
            gIdx[perm[p]] = config.grouped() && config.staticGroups() ? perm[p] / gs : p / gs;
        }
        GptqReport report = new GptqReport(loss, config.dampPercent(), damping.fraction, damping.absolute,
                damping.attempts, deadCount, (tf1 - tf0) / 1e9, (System.nanoTime() - t0) / 1e9);
        return QuantizedLinear.assemble(layer, out, in, gs, codes, scales, zeros, gIdx, report);
    }

    private void checkInputs(String layer, float[] weight, int out, int in, float[] hessian) {
        config.checkInFeatures(layer, in);
        if (out <= 0) throw new IllegalArgumentException(layer + ": out_features must be positive, got " + out);
        if ((long) out * in > Integer.MAX_VALUE || (long) in * in > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(layer + ": " + out + "x" + in + " is too large for one Java array");
        }
        if (weight.length != out * in) {
            throw new IllegalArgumentException(layer + ": weight has " + weight.length + " elements, expected "
                    + out + "x" + in);
        }
        if (hessian.length != in * in) {
            throw new IllegalArgumentException(layer + ": Hessian has " + hessian.length + " elements, expected "
                    + in + "x" + in);
        }
        requireFinite(layer, "weight", weight, in);
        requireFinite(layer, "Hessian", hessian, in);
    }

    private static void requireFinite(String layer, String what, float[] a, int cols) {
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new IllegalArgumentException(layer + ": " + what + " holds " + a[i] + " at ["
                        + (i / cols) + "][" + (i % cols) + "]");
            }
        }
    }

    private static void setGrid(float[] scales, int[] zeros, int idx, QuantGrid.RowGrid g) {
        scales[idx] = g.scale();
        zeros[idx] = g.zero();
    }

    private static void copyRowZeroingDead(float[] weight, int r, int in, boolean[] dead, float[] row) {
        System.arraycopy(weight, r * in, row, 0, in);
        for (int j = 0; j < in; j++) if (dead[j]) row[j] = 0f;
    }

    /** argsort(diag, descending), stable. */
    static int[] descendingOrder(float[] diag) {
        Integer[] idx = new Integer[diag.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> diag[i]).reversed());
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    private record Damping(double fraction, float absolute, int attempts) {}

    /**
     * Leaves Uᵀ in the lower triangle of {@code factor}, where H⁻¹ = UᵀU, H being the permuted,
     * dead-fixed and damped Hessian. Raises the damping until the three LAPACK steps succeed.
     */
    private Damping factorInverseHessian(String layer, float[] hessian, int in, int[] perm, boolean[] dead,
                                         float[] diag, OffHeapMatrix factor) {
        double sum = 0;
        for (float d : diag) sum += d;
        double meanDiag = sum / in;
        if (!(meanDiag > 0)) {
            throw new IllegalArgumentException(layer + ": mean(diag H) = " + meanDiag
                    + "; a Hessian of layer inputs has a positive diagonal");
        }
        double fraction = config.dampPercent();
        for (int attempt = 1; attempt <= MAX_DAMP_ATTEMPTS; attempt++, fraction *= 2) {
            float damp = (float) (fraction * meanDiag);
            loadPermutedLower(hessian, in, perm, dead, damp, factor);
            if (Lapack.choleskyLower(factor) == 0
                    && Lapack.inverseFromCholeskyLower(factor) == 0
                    && Lapack.choleskyLower(factor) == 0
                    && positiveFiniteDiagonal(factor)) {
                return new Damping(fraction, damp, attempt);
            }
        }
        throw new IllegalArgumentException(layer + ": H + damp·I is not positive definite even at damp_percent "
                + fraction / 2 + " (" + MAX_DAMP_ATTEMPTS + " attempts); the Hessian is not a Gram matrix");
    }

    private static void loadPermutedLower(float[] hessian, int in, int[] perm, boolean[] dead, float damp,
                                          OffHeapMatrix factor) {
        float[] row = new float[in];
        for (int i = 0; i < in; i++) {
            int src = perm[i] * in;
            for (int j = 0; j < i; j++) row[j] = hessian[src + perm[j]];
            row[i] = (dead[perm[i]] ? 1f : hessian[src + perm[i]]) + damp;
            factor.writeRow(i, 0, row, 0, i + 1);
        }
    }

    private static boolean positiveFiniteDiagonal(OffHeapMatrix factor) {
        for (int i = 0; i < factor.rows(); i++) {
            float d = factor.get(i, i);
            if (!(d > 0 && Float.isFinite(d))) return false;
        }
        return true;
    }

    /** Buffers and outputs of the column loop, shared by the blocks of one solve. */
    private final class BlockState {
        private final int out;
        private final int in;
        private final int gs;
        private final boolean dynamicGroups;
        private final int[] perm;
        private final int[] groupAt;
        private final float[] scales;
        private final int[] zeros;
        private final byte[] codes;
        private final OffHeapMatrix w;
        private final OffHeapMatrix err;
        private final double[] rowLoss;
        private final int chunkRows;

        BlockState(int out, int in, int gs, boolean dynamicGroups, int[] perm, int[] groupAt, float[] scales,
                   int[] zeros, byte[] codes, OffHeapMatrix w, OffHeapMatrix err) {
            this.out = out;
            this.in = in;
            this.gs = gs;
            this.dynamicGroups = dynamicGroups;
            this.perm = perm;
            this.groupAt = groupAt;
            this.scales = scales;
            this.zeros = zeros;
            this.codes = codes;
            this.w = w;
            this.err = err;
            this.rowLoss = new double[out];
            int threads = Runtime.getRuntime().availableProcessors();
            this.chunkRows = Math.max(8, (out + 4 * threads - 1) / (4 * threads));
        }

        /** Quantises permuted columns [i1, i2) of every row and leaves the scaled errors in {@code err}. */
        void run(int i1, int i2, OffHeapMatrix factor) {
            int count = i2 - i1;
            float[] blk = factor.view(i1, i1, count, count).toArray();
            float[] u = new float[count * count]; // U[i1+i][i1+j] = factor[i1+j][i1+i], j >= i
            for (int i = 0; i < count; i++) {
                for (int j = i; j < count; j++) u[i * count + j] = blk[j * count + i];
            }
            int chunks = (out + chunkRows - 1) / chunkRows;
            IntStream.range(0, chunks).parallel().forEach(c -> {
                float[] w1 = new float[count];
                float[] e1 = new float[count];
                float[] segment = dynamicGroups ? new float[gs] : null;
                for (int r = c * chunkRows; r < Math.min(out, (c + 1) * chunkRows); r++) {
                    w.readRow(r, i1, w1, 0, count);
                    rowLoss[r] += quantizeRow(r, i1, count, w1, e1, u, segment);
                    err.writeRow(r, 0, e1, 0, count);
                }
            });
        }

        private double quantizeRow(int r, int i1, int count, float[] w1, float[] e1, float[] u, float[] segment) {
            double loss = 0;
            for (int i = 0; i < count; i++) {
                int p = i1 + i;
                int g = groupAt[p] * out + r;
                if (dynamicGroups && p % gs == 0) {
                    // the reference reads the global W here: earlier blocks' updates, not this block's
                    w.readRow(r, p, segment, 0, gs);
                    setGrid(scales, zeros, g, grid.fit(segment, 0, gs));
                }
                float x = w1[i];
                int q = grid.code(x, scales[g], zeros[g]);
                float dq = QuantGrid.dequantize(q, scales[g], zeros[g]);
                codes[r * in + perm[p]] = (byte) q;
                float d = u[i * count + i];
                float diff = x - dq;
                float e = diff / d;
                loss += (double) (diff * diff / (d * d)) / 2;
                int base = i * count;
                for (int j = i + 1; j < count; j++) w1[j] -= e * u[base + j];
                e1[i] = e;
            }
            return loss;
        }

        double totalLoss() {
            double s = 0;
            for (double l : rowLoss) s += l;
            return s;
        }
    }
}
