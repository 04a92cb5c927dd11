package zq.gptq;

import java.util.stream.IntStream;
import zq.formats.FiniteValues;
import zq.runtime.VectorSupport;
import zq.runtime.linalg.Blas;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * AutoGPTQ's {@code GPTQ.fasterquant} for one Linear layer (docs/gptq.md, "The GPTQ solve"), in float32.
 *
 * <p>Steps, in the reference's order: the whole-row grid is fitted before dead inputs are handled;
 * dead inputs (H[i][i] == 0) get H[i][i] = 1 and a zero weight column; static groups are fitted on
 * the unpermuted weights; act-order permutes by decreasing diag(H); H gets damp·mean(diag H) on its
 * diagonal; then H⁻¹ = UᵀU, which {@link InverseHessian} factors once per Hessian however many Linears share it.
 * Columns are quantised in blocks: inside a block each column's error is spread over the block's later columns
 * (rank-1 updates in Java). The reference then updates all later columns with the block's error panel (one sgemm).
 * zq does that only inside a wider block of U ({@link #outerBlock}); before each such block it pulls it by the
 * residuals W₀ − Q of every column already quantised (one sgemm): the same weights in exact arithmetic, and it
 * needs only U's diagonal blocks, not the whole inverse.
 * Dynamic groups are fitted at their first column from the global weights, which hold the updates of earlier
 * blocks but not of earlier columns of the current block, as in the reference.
 *
 * <p>Scales are float32 throughout the column loop, so the error fed back is w − scale·(q − zero) with the
 * float32 scale, as in AutoGPTQ. The result's {@link QuantizedLinear#dequantized()} instead uses the
 * fp16-rounded scale that the checkpoint stores, i.e. the weight every loader will decode; codes are
 * the same either way (AutoGPTQ's pack() recovers them from the fp16 weight and scale).
 *
 * <p>Every output row is independent given U, so the in-block work runs in parallel over bands of rows; the
 * result does not depend on the number of threads, nor on whether the SIMD loop ran.
 *
 * <p>Differences from the reference, all deliberate:
 * <ul>
 *   <li>act-order uses a stable sort (ties keep increasing column index). torch.argsort is not stable,
 *       so columns with exactly equal diag(H) may be visited in another order; the file format is the same.</li>
 *   <li>When a Cholesky step fails (AutoGPTQ raises), the damping is raised and the chain retried from the
 *       undamped H: attempt k (k = 0, 1, ...) uses damp fraction dampPercent·2^k, at most
 *       {@value #MAX_DAMP_ATTEMPTS} attempts. The fraction that worked is in the report.</li>
 *   <li>The factorisation and the update between blocks are rearranged as above ({@link InverseHessian}, docs/gptq.md
 *       "The GPTQ solve"): the reference's weights in exact arithmetic at a quarter of its factorisation flops.</li>
 * </ul>
 */
public final class GptqSolver {
    static final int MAX_DAMP_ATTEMPTS = 24;
    /**
     * Columns per block of U unless a group or the layer asks otherwise ({@link #outerBlock}). The pull before a block
     * is one sgemm of out × (columns before it) × (the block's width). On the 2-core machine of docs/runtime.md, over
     * a 4096 × 13056 down_proj, its pulls ran at 92–114 GFLOP/s with blocks of 128 columns, 161–163 with 512 and
     * 180–184 with 1024, against 153–185 for the reference's push after every block of 128. Wider blocks make the
     * push inside them (its N at most the block's width) and the products C_S ({@link InverseHessian}, b·n²/2 flops)
     * grow.
     */
    static final int PULL_COLUMNS = 1024;

    private final GptqConfig config;
    private final QuantGrid grid;
    /** Whether the column loop's error spread runs on the Vector API ({@link ColumnLoopKernels}); same bits either way. */
    private final boolean vectorized;
    private final int pullColumns;

    public GptqSolver(GptqConfig config) {
        this(config, VectorSupport.AVAILABLE, PULL_COLUMNS);
    }

    /** With the SIMD error spread on or off (tests run both). */
    GptqSolver(GptqConfig config, boolean vectorized) {
        this(config, vectorized, PULL_COLUMNS);
    }

    /** With blocks of U of about {@code pullColumns} columns ({@link #outerBlock}); tests make them small. */
    GptqSolver(GptqConfig config, boolean vectorized, int pullColumns) {
        if (pullColumns <= 0) throw new IllegalArgumentException("blocks of U of " + pullColumns + " columns");
        this.config = config;
        this.grid = QuantGrid.of(config);
        this.vectorized = vectorized && ColumnLoopKernels.fits(BlockState.LANES);
        this.pullColumns = pullColumns;
    }

    public GptqConfig config() {
        return config;
    }

    /**
     * Quantises one layer, factoring its Hessian for it alone.
     *
     * @param layer   name used in error messages (e.g. model.layers.0.self_attn.q_proj)
     * @param weight  W as float32, [out][in] row-major (nn.Linear layout); not modified
     * @param out     out_features
     * @param in      in_features
     * @param hessian H, [in][in] row-major, symmetric (only its lower triangle after permutation is read); not modified
     */
    public QuantizedLinear quantize(String layer, float[] weight, int out, int in, float[] hessian) {
        config.checkInFeatures(layer, in);
        try (InverseHessian h = factor(layer, hessian, in)) {
            return quantize(layer, weight, out, in, h, true);
        }
    }

    /**
     * Factors a Hessian once for all the Linears that read the same input ({@link #quantize(String, float[], int, int,
     * InverseHessian, boolean)}); the caller closes it.
     */
    public InverseHessian factor(String layer, float[] hessian, int in) {
        config.checkInFeatures(layer, in);
        return InverseHessian.of(layer, hessian, in, config.descAct(), config.dampPercent(), MAX_DAMP_ATTEMPTS, outerBlock(in));
    }

    /**
     * As {@link #factor(String, float[], int)}, from H's lower triangle in native memory, which is handed over
     * ({@link InverseHessian#ofOwned}: without act-order the factor is made in its memory); closed on failure too.
     */
    public InverseHessian factor(String layer, OffHeapMatrix lowerHessian) {
        int in = lowerHessian.rows();
        try {
            config.checkInFeatures(layer, in);
        } catch (RuntimeException e) {
            lowerHessian.close();
            throw e;
        }
        return InverseHessian.ofOwned(layer, lowerHessian, config.descAct(), config.dampPercent(), MAX_DAMP_ATTEMPTS,
                outerBlock(in));
    }

    /**
     * Columns per block of U that the factorisation keeps ({@link InverseHessian}): the loop pulls each such block by
     * the columns before it, then walks it in loop blocks ({@link GptqConfig#blockSize()}) and pushes each loop block's
     * errors onto the rest of it, as the reference does. It is the smallest multiple of the loop block that reaches
     * {@link #PULL_COLUMNS} (at most the layer's width), and also a multiple of the group size when a dynamic group
     * could straddle two loop blocks: such a group's grid is fitted from the weights as the reference holds them at
     * its first column, updated by every earlier loop block, and only inside one block of U are those updates made
     * column block by column block.
     */
    int outerBlock(int in) {
        int block = Math.min(config.blockSize(), in);
        int gs = config.effectiveGroupSize(in);
        boolean dynamicGroups = config.grouped() && !config.staticGroups();
        long base = !dynamicGroups || block % gs == 0 ? block : (long) block / gcd(block, gs) * gs;
        long outer = Math.max(1, (pullColumns + base - 1) / base) * base;
        return (int) Math.min(outer, in);
    }

    /** Floating-point work of {@link #factor} for a Hessian of this width. */
    public double factorFlops(int in) {
        return InverseHessian.flops(in, outerBlock(in));
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /**
     * Quantises one layer with a factorisation made by {@link #factor} from its Hessian.
     *
     * @param countFactorTime whether this Linear's report counts the factorisation's time (true for the first of the
     *                        Linears that share it, so that the times add up)
     */
    public QuantizedLinear quantize(String layer, float[] weight, int out, int in, InverseHessian h, boolean countFactorTime) {
        long t0 = System.nanoTime();
        checkInputs(layer, weight, out, in, h);
        int gs = config.effectiveGroupSize(in);
        int groups = in / gs;
        boolean dynamicGroups = config.grouped() && !config.staticGroups();
        float[] scales = new float[groups * out];
        int[] zeros = new int[groups * out];

        if (!config.grouped()) {
            for (int r = 0; r < out; r++) setGrid(scales, zeros, r, grid.fit(weight, r * in, in));
        }

        if (config.grouped() && config.staticGroups()) {
            float[] row = new float[in];
            for (int r = 0; r < out; r++) {
                copyRowZeroingDead(weight, r, in, h, row);
                for (int g = 0; g < groups; g++) setGrid(scales, zeros, g * out + r, grid.fit(row, g * gs, gs));
            }
        }

        int[] perm = h.permutation();
        // group of each permuted position, for the grid lookup inside the column loop
        int[] groupAt = new int[in];
        for (int p = 0; p < in; p++) {
            groupAt[p] = !config.grouped() ? 0 : dynamicGroups ? p / gs : perm[p] / gs;
        }

        byte[] codes = new byte[out * in];
        double loss;
        int block = Math.min(config.blockSize(), in);
        OffHeapMatrix factor = h.factor();
        // every row of w is written below, and err's first columns by each block before they are read
        try (OffHeapMatrix w = OffHeapMatrix.uninitialized(out, in);
             OffHeapMatrix err = OffHeapMatrix.uninitialized(out, block)) {
            IntStream.range(0, (out + BlockState.LANES - 1) / BlockState.LANES).parallel().forEach(b -> {
                float[] row = new float[in];
                float[] permuted = new float[in];
                for (int r = b * BlockState.LANES; r < Math.min(out, (b + 1) * BlockState.LANES); r++) {
                    copyRowZeroingDead(weight, r, in, h, row);
                    for (int p = 0; p < in; p++) permuted[p] = row[perm[p]];
                    w.writeRow(r, 0, permuted, 0, in);
                }
            });
            int outer = h.blockColumns();
            BlockState st = new BlockState(out, in, gs, dynamicGroups, perm, groupAt, scales, zeros, codes, weight, h,
                    w, outer > block ? err : null);
            for (int o1 = 0; o1 < in; o1 += outer) {
                int o2 = Math.min(o1 + outer, in);
                if (o1 > 0) {
                    // the quantised columns' residuals (in w[:, <o1]) pull this block of U: W[:, S] += D·C_S
                    Blas.gemm(1f, w.view(0, 0, out, o1), false, factor.view(o1, 0, o2 - o1, o1), true, 1f,
                            w.view(0, o1, out, o2 - o1));
                }
                for (int i1 = o1; i1 < o2; i1 += block) {
                    int i2 = Math.min(i1 + block, o2);
                    st.run(i1, i2, factor);
                    if (i2 < o2) {
                        int count = i2 - i1;
                        Blas.gemm(-1f, err.view(0, 0, out, count), false, factor.view(i2, i1, o2 - i2, count), true,
                                1f, w.view(0, i2, out, o2 - i2));
                    }
                }
            }
            loss = st.totalLoss();
        }

        int[] gIdx = new int[in];
        for (int p = 0; p < in; p++) {
            gIdx[perm[p]] = config.grouped() && config.staticGroups() ? perm[p] / gs : p / gs;
        }
        double factorSeconds = countFactorTime ? h.seconds() : 0;
        GptqReport report = new GptqReport(loss, config.dampPercent(), h.dampFraction(), h.dampAbsolute(),
                h.dampAttempts(), h.deadCount(), factorSeconds, (System.nanoTime() - t0) / 1e9 + factorSeconds);
        return QuantizedLinear.assemble(layer, out, in, gs, codes, scales, zeros, gIdx, report);
    }

    private void checkInputs(String layer, float[] weight, int out, int in, InverseHessian h) {
        config.checkInFeatures(layer, in);
        if (out <= 0) throw new IllegalArgumentException(layer + ": out_features must be positive, got " + out);
        if ((long) out * in > Integer.MAX_VALUE || (long) in * in > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(layer + ": " + out + "x" + in + " is too large for one Java array");
        }
        if (weight.length != out * in) {
            throw new IllegalArgumentException(layer + ": weight has " + weight.length + " elements, expected "
                    + out + "x" + in);
        }
        if (h.features() != in) {
            throw new IllegalArgumentException(layer + ": the Hessian is " + h.features() + " wide, in_features is " + in);
        }
        if (h.blockColumns() != outerBlock(in)) {
            throw new IllegalArgumentException(layer + ": the Hessian was factored in blocks of " + h.blockColumns()
                    + " columns, these settings need " + outerBlock(in));
        }
        // in parallel pieces: one serial pass over a 7B layer's 200 M weights was about 0.3 s of every layer
        int bad = FiniteValues.firstNonFinite(weight);
        if (bad >= 0) {
            throw new IllegalArgumentException(layer + ": weight holds " + weight[bad] + " at [" + (bad / in) + "][" + (bad % in) + "]");
        }
    }

    private static void setGrid(float[] scales, int[] zeros, int idx, QuantGrid.RowGrid g) {
        scales[idx] = g.scale();
        zeros[idx] = g.zero();
    }

    private static void copyRowZeroingDead(float[] weight, int r, int in, InverseHessian h, float[] row) {
        System.arraycopy(weight, r * in, row, 0, in);
        for (int j = 0; j < in; j++) if (h.dead(j)) row[j] = 0f;
    }

    /**
     * Buffers and outputs of the column loop, shared by the blocks of one solve.
     *
     * <p>Each row's walk through a block is a chain of dependent steps (the division by the scale, the rounding, the
     * division by U's diagonal, then the update of the next column), so one row at a time leaves the core waiting on
     * latency. The rows are therefore walked {@value #LANES} at a time, held transposed (column-major within the
     * block) so that every step of the chain runs for all of them and the error update of column j is one contiguous
     * run of {@value #LANES} floats. Each row still sees exactly its own sequence of operations in the reference's
     * order, so the result is the same as walking the rows one by one.
     */
    private final class BlockState {
        /** Rows walked together: 64 floats of a column are four AVX-512 vectors; two block panels stay in L1/L2. */
        private static final int LANES = 64;

        private final int out;
        private final int in;
        private final int gs;
        private final boolean dynamicGroups;
        private final int[] perm;
        private final int[] groupAt;
        private final float[] scales;
        private final int[] zeros;
        /** {@link #zeros} as floats, for the SIMD loop (JDK 17 does not compile its int-to-float conversion well). */
        private final float[] zeroValues;
        private final byte[] codes;
        /** W₀, the Linear's weights as given, [out][in] in original column order. */
        private final float[] weight;
        private final InverseHessian h;
        private final OffHeapMatrix w;
        /** The scaled errors of the last loop block, for the update inside a block of U; null when nothing reads them. */
        private final OffHeapMatrix err;
        private final double[] rowLoss;

        BlockState(int out, int in, int gs, boolean dynamicGroups, int[] perm, int[] groupAt, float[] scales,
                   int[] zeros, byte[] codes, float[] weight, InverseHessian h, OffHeapMatrix w, OffHeapMatrix err) {
            this.out = out;
            this.in = in;
            this.gs = gs;
            this.dynamicGroups = dynamicGroups;
            this.perm = perm;
            this.groupAt = groupAt;
            this.scales = scales;
            this.zeros = zeros;
            this.zeroValues = new float[zeros.length];
            for (int k = 0; k < zeros.length; k++) zeroValues[k] = zeros[k];
            this.codes = codes;
            this.weight = weight;
            this.h = h;
            this.w = w;
            this.err = err;
            this.rowLoss = new double[out];
        }

        /**
         * Quantises permuted columns [i1, i2) of every row, leaves the scaled errors in {@code err} and the residuals
         * D = W₀ − Q in those columns of {@code w}, which the loop no longer reads as weights.
         */
        void run(int i1, int i2, OffHeapMatrix factor) {
            int count = i2 - i1;
            float[] blk = factor.view(i1, i1, count, count).toArray();
            float[] u = new float[count * count]; // U[i1+i][i1+j] = factor[i1+j][i1+i], j >= i
            for (int i = 0; i < count; i++) {
                for (int j = i; j < count; j++) u[i * count + j] = blk[j * count + i];
            }
            int bands = (out + LANES - 1) / LANES;
            IntStream.range(0, bands).parallel().forEach(b -> quantizeBand(b * LANES, Math.min(LANES, out - b * LANES), i1, count, u));
        }

        /** Rows [r0, r0+rows) through columns [i1, i1+count), transposed: {@code wt[i·LANES + l]} is row r0+l, column i1+i. */
        private void quantizeBand(int r0, int rows, int i1, int count, float[] u) {
            float[] wt = new float[count * LANES];
            float[] et = new float[count * LANES]; // lanes past the last row stay 0, so their updates change nothing
            float[] row = new float[count];
            float[] bandCodes = new float[count * LANES]; // codes are small integers, exact in fp32
            float[] lossTerm = new float[LANES];
            float[] segment = dynamicGroups ? new float[gs] : null;
            for (int l = 0; l < rows; l++) {
                w.readRow(r0 + l, i1, row, 0, count);
                for (int i = 0; i < count; i++) wt[i * LANES + l] = row[i];
            }
            for (int i = 0; i < count; i++) {
                int p = i1 + i;
                int g0 = groupAt[p] * out + r0;
                if (dynamicGroups && p % gs == 0) {
                    for (int l = 0; l < rows; l++) {
                        // the reference reads the global W here: earlier blocks' updates, not this block's
                        w.readRow(r0 + l, p, segment, 0, gs);
                        setGrid(scales, zeros, g0 + l, grid.fit(segment, 0, gs));
                        zeroValues[g0 + l] = zeros[g0 + l];
                    }
                }
                float d = u[i * count + i];
                int base = i * LANES;
                int l = vectorized ? ColumnLoopKernels.quantizeColumn(wt, et, bandCodes, lossTerm, base, scales, zeroValues, g0, rows, d, grid.maxq()) : 0;
                for (; l < rows; l++) {
                    float x = wt[base + l];
                    float scale = scales[g0 + l];
                    int zero = zeros[g0 + l];
                    int q = grid.code(x, scale, zero);
                    bandCodes[base + l] = q;
                    float diff = x - QuantGrid.dequantize(q, scale, zero);
                    et[base + l] = diff / d;
                    lossTerm[l] = diff * diff / (d * d);
                }
                for (int k = 0; k < rows; k++) rowLoss[r0 + k] += (double) lossTerm[k] / 2;
                if (vectorized) {
                    ColumnLoopKernels.spreadError(wt, et, u, i, count, LANES);
                } else {
                    for (int j = i + 1; j < count; j++) {
                        float uij = u[i * count + j];
                        int jb = j * LANES;
                        for (int k = 0; k < LANES; k++) wt[jb + k] -= et[base + k] * uij;
                    }
                }
            }
            for (int l = 0; l < rows; l++) {
                int at = (r0 + l) * in;
                for (int i = 0; i < count; i++) {
                    int column = perm[i1 + i];
                    int q = (int) bandCodes[i * LANES + l];
                    codes[at + column] = (byte) q;
                    int g = groupAt[i1 + i] * out + r0 + l;
                    // the dequantised value the loop's error used: the float32 scale, as in the reference
                    row[i] = (h.dead(column) ? 0f : weight[at + column]) - QuantGrid.dequantize(q, scales[g], zeros[g]);
                }
                w.writeRow(r0 + l, i1, row, 0, count);
                if (err != null) {
                    for (int i = 0; i < count; i++) row[i] = et[i * LANES + l];
                    err.writeRow(r0 + l, 0, row, 0, count);
                }
            }
        }

        double totalLoss() {
            double s = 0;
            for (double l : rowLoss) s += l;
            return s;
        }
    }
}
