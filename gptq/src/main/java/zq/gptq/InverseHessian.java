package zq.gptq;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import zq.runtime.linalg.Blas;
import zq.runtime.linalg.Lapack;
import zq.runtime.linalg.OffHeapMatrix;

/**
 * What the GPTQ column loop needs from one Hessian, computed once and shared by every Linear that reads the same
 * input (q/k/v, up/gate): the dead inputs, the act-order permutation and H⁻¹ = UᵀU, where U is upper triangular and
 * H is the permuted, dead-fixed and damped Hessian (AutoGPTQ's {@code fasterquant} builds the same U as
 * {@code cholesky(cholesky_inverse(cholesky(H)), upper=True)}), in the factored form the blocked column loop reads.
 *
 * <p>The loop walks the columns in blocks S of {@link #blockColumns()} and reads U in two ways only: inside a block,
 * U[S,S]; and across blocks, the pull of the columns already quantised on the block about to start. With J the
 * reversal permutation, J·H·J = L·Lᵀ (lower L) gives H = R·Rᵀ with the upper triangular R = J·L·J, and by the
 * uniqueness of the Cholesky factor U = R⁻¹. Then the quantised columns' residual D = W₀ − Q (W₀ the weights before
 * any update) moves block S by D·C_S with C_S = R[&lt;S,S]·U[S,S] (docs/gptq.md, "The GPTQ solve", derives it). So
 * one Cholesky (n³/3 flops), a triangular inverse of each diagonal block and the products C_S (n²·b together) give
 * everything: the reference's chain costs 4n³/3, and inverting the whole of R would add n³/3 that nothing reads.
 * {@code InverseHessianTest} checks both parts against the float64 chain.
 *
 * <p>Layout of {@link #factor()}, row-major n×n, lower triangle only: diagonal block S holds U[S,S]ᵀ; left of it,
 * rows S, columns before S hold C_Sᵀ. The upper triangle holds nothing of use. Close it to free the native memory.
 */
public final class InverseHessian implements AutoCloseable {
    /** Rows and columns per tile of the in-place reflection: 64 KB of floats per tile, two tiles in flight. */
    private static final int TILE = 128;

    private final int n;
    private final boolean[] dead;
    private final int deadCount;
    private final int[] perm;
    private final double dampFraction;
    private final float dampAbsolute;
    private final int dampAttempts;
    private final double seconds;
    private final int blockColumns;
    private final OffHeapMatrix factor;

    private InverseHessian(int n, boolean[] dead, int deadCount, int[] perm, double dampFraction, float dampAbsolute,
                           int dampAttempts, double seconds, int blockColumns, OffHeapMatrix factor) {
        this.n = n;
        this.blockColumns = blockColumns;
        this.dead = dead;
        this.deadCount = deadCount;
        this.perm = perm;
        this.dampFraction = dampFraction;
        this.dampAbsolute = dampAbsolute;
        this.dampAttempts = dampAttempts;
        this.seconds = seconds;
        this.factor = factor;
    }

    /**
     * Fixes dead inputs (H[i][i] == 0 becomes 1), orders the columns (by decreasing diag(H) when {@code descAct}, a
     * stable sort) and factors with damping {@code dampPercent·mean(diag H)}; when a step fails (AutoGPTQ raises),
     * the damping is doubled and the factorisation retried from the undamped H, at most {@code maxAttempts} times.
     *
     * @param layer        name used in error messages
     * @param hessian      H, [n][n] row-major, symmetric; not modified
     * @param blockColumns columns per block of the loop that will read it (the last block may be shorter)
     */
    public static InverseHessian of(String layer, float[] hessian, int n, boolean descAct, double dampPercent, int maxAttempts,
                                    int blockColumns) {
        if ((long) n * n != hessian.length) {
            throw new IllegalArgumentException(layer + ": Hessian has " + hessian.length + " elements, expected " + n + "x" + n);
        }
        for (int i = 0; i < hessian.length; i++) {
            if (!Float.isFinite(hessian[i])) {
                throw new IllegalArgumentException(layer + ": Hessian holds " + hessian[i] + " at [" + (i / n) + "][" + (i % n) + "]");
            }
        }
        return ofOwned(layer, OffHeapMatrix.copyOf(hessian, n, n), descAct, dampPercent, maxAttempts, blockColumns);
    }

    /**
     * As {@link #of(String, float[], int, boolean, double, int, int)}, from H's lower triangle (diagonal included) in
     * native memory, as the CPU accumulator leaves it, which is handed over: its upper triangle is never read, and H
     * never needs a copy on the Java heap (0.7 GB at 7B's intermediate width). Without act-order the factorisation
     * runs in H's own memory, so H and its factor are never native at once (0.65 GB more at the native peak,
     * docs/memory.md); a retry at higher damping then finds the undamped J·H·J in the strictly upper triangle, which
     * neither LAPACK's {@code spotrf} nor the steps after it read or write. With act-order the gather needs H whole
     * while it writes, so the factor gets memory of its own and {@code lower} is closed.
     *
     * @param lower H's lower triangle, n×n; owned by the result from here on (closed on failure)
     */
    public static InverseHessian ofOwned(String layer, OffHeapMatrix lower, boolean descAct, double dampPercent,
                                         int maxAttempts, int blockColumns) {
        try {
            InverseHessian h = factor(layer, lower, descAct, dampPercent, maxAttempts, blockColumns);
            if (h.factor != lower) lower.close();
            return h;
        } catch (RuntimeException e) {
            lower.close();
            throw e;
        }
    }

    private static InverseHessian factor(String layer, OffHeapMatrix lower, boolean descAct, double dampPercent,
                                         int maxAttempts, int blockColumns) {
        long t0 = System.nanoTime();
        if (blockColumns <= 0) throw new IllegalArgumentException(layer + ": block of " + blockColumns + " columns");
        int n = lower.rows();
        if (lower.cols() != n) throw new IllegalArgumentException(layer + ": Hessian is " + n + "x" + lower.cols() + ", not square");
        checkFiniteLower(layer, lower);
        boolean[] dead = new boolean[n];
        float[] diag = new float[n];
        int deadCount = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            diag[i] = lower.get(i, i);
            if (diag[i] == 0f) {
                dead[i] = true;
                diag[i] = 1f;
                deadCount++;
            }
            sum += diag[i];
        }
        double meanDiag = sum / n;
        if (!(meanDiag > 0)) {
            throw new IllegalArgumentException(layer + ": mean(diag H) = " + meanDiag + "; a Hessian of layer inputs has a positive diagonal");
        }
        int[] perm = descAct ? descendingOrder(diag) : IntStream.range(0, n).toArray();
        boolean inPlace = true;
        for (int i = 0; i < n && inPlace; i++) inPlace = perm[i] == i;
        // in place: only the lower triangle is ever factored, the rest is the retry's copy; otherwise never read
        OffHeapMatrix factor = inPlace ? lower : OffHeapMatrix.uninitialized(n, n);
        try {
            if (inPlace) {
                reflectLower(factor); // the lower triangle is now J·H·J's; the upper one holds whatever H's did, moved
                mirror(factor, true);
            }
            double fraction = dampPercent;
            for (int attempt = 1; attempt <= maxAttempts; attempt++, fraction *= 2) {
                float damp = (float) (fraction * meanDiag);
                if (!inPlace) gatherReversedLower(lower, perm, factor);
                else if (attempt > 1) mirror(factor, false);
                for (int i = 0; i < n; i++) factor.set(i, i, diag[perm[n - 1 - i]] + damp);
                if (Lapack.choleskyLower(factor) == 0 && positiveFiniteDiagonal(factor, 0, n)) {
                    reflectLower(factor); // Rᵀ; a copy above the diagonal is reflected onto the upper triangle again
                    if (invertDiagonalBlocks(factor, blockColumns)) {
                        carryPanels(factor, blockColumns);
                        return new InverseHessian(n, dead, deadCount, perm, fraction, damp, attempt,
                                (System.nanoTime() - t0) / 1e9, blockColumns, factor);
                    }
                    if (inPlace) reflectLower(factor); // the copy back where the retry reads it
                }
            }
            throw new IllegalArgumentException(layer + ": H + damp·I is not positive definite even at damp_percent "
                    + fraction / 2 + " (" + maxAttempts + " attempts); the Hessian is not a Gram matrix");
        } catch (RuntimeException e) {
            if (factor != lower) factor.close();
            throw e;
        }
    }

    /**
     * Copies the strictly lower triangle onto the strictly upper one, transposed ({@code lowerToUpper}), or back; the
     * diagonal is not touched. Each task reads the tiles of one row of tiles and writes those of the matching column
     * (or the other way round), so no two tasks touch the same tile.
     */
    static void mirror(OffHeapMatrix m, boolean lowerToUpper) {
        int n = m.rows();
        IntStream.range(0, (n + TILE - 1) / TILE).parallel().forEach(ti -> {
            int i0 = ti * TILE;
            int ri = Math.min(TILE, n - i0);
            float[] t = new float[TILE * TILE];
            for (int j0 = 0; j0 <= i0; j0 += TILE) {
                int rj = Math.min(TILE, n - j0);
                boolean diagonal = j0 == i0;
                // the lower tile is rows [i0, i0+ri) x cols [j0, j0+rj); its mirror image rows [j0, j0+rj) x cols [i0, i0+ri)
                if (lowerToUpper) {
                    float[] raw = m.view(i0, j0, ri, rj).toArray();
                    for (int x = 0; x < ri; x++) for (int y = 0; y < rj; y++) t[y * ri + x] = raw[x * rj + y];
                    for (int y = 0; y < rj; y++) {
                        int from = diagonal ? y + 1 : 0;
                        m.writeRow(j0 + y, i0 + from, t, y * ri + from, ri - from);
                    }
                } else {
                    float[] raw = m.view(j0, i0, rj, ri).toArray();
                    for (int y = 0; y < rj; y++) for (int x = 0; x < ri; x++) t[x * rj + y] = raw[y * ri + x];
                    for (int x = 0; x < ri; x++) m.writeRow(i0 + x, j0, t, x * rj, diagonal ? x : rj);
                }
            }
        });
    }

    private static void checkFiniteLower(String layer, OffHeapMatrix lower) {
        int n = lower.rows();
        IntStream.range(0, (n + TILE - 1) / TILE).parallel().forEach(band -> {
            float[] row = new float[n];
            for (int i = band * TILE; i < Math.min(n, (band + 1) * TILE); i++) {
                lower.readRow(i, 0, row, 0, i + 1);
                for (int j = 0; j <= i; j++) {
                    if (!Float.isFinite(row[j])) {
                        throw new IllegalArgumentException(layer + ": Hessian holds " + row[j] + " at [" + i + "][" + j + "]");
                    }
                }
            }
        });
    }

    /**
     * Floating-point work of {@link #of} for an n-wide Hessian in blocks of {@code blockColumns}: the Cholesky (n³/3),
     * the diagonal blocks' inverses (b³/3 each) and the products C_S (b²·(columns before S) each).
     */
    public static double flops(int n, int blockColumns) {
        double f = (double) n * n * n / 3;
        for (int o1 = 0; o1 < n; o1 += blockColumns) {
            double len = Math.min(blockColumns, n - o1);
            f += len * len * len / 3 + len * len * o1;
        }
        return f;
    }

    /** argsort(diag, descending), stable: ties keep increasing column index. */
    static int[] descendingOrder(float[] diag) {
        Integer[] idx = new Integer[diag.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> diag[i]).reversed());
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    /**
     * The strictly lower triangle of J·Hp·J, Hp[i][j] = H[perm i][perm j], gathered from H's lower triangle as
     * H[max][min] (the caller sets the diagonal).
     */
    private static void gatherReversedLower(OffHeapMatrix lower, int[] perm, OffHeapMatrix factor) {
        int n = lower.rows();
        IntStream.range(0, (n + TILE - 1) / TILE).parallel().forEach(band -> {
            float[] row = new float[n];
            for (int i = band * TILE; i < Math.min(n, (band + 1) * TILE); i++) {
                int pi = perm[n - 1 - i];
                for (int j = 0; j < i; j++) {
                    int pj = perm[n - 1 - j];
                    row[j] = pi >= pj ? lower.get(pi, pj) : lower.get(pj, pi);
                }
                if (i > 0) factor.writeRow(i, 0, row, 0, i);
            }
        });
    }

    private static boolean positiveFiniteDiagonal(OffHeapMatrix m, int from, int to) {
        for (int i = from; i < to; i++) {
            float d = m.get(i, i);
            if (!(d > 0 && Float.isFinite(d))) return false;
        }
        return true;
    }

    /**
     * Rᵀ[S,S] → U[S,S]ᵀ = (R[S,S]⁻¹)ᵀ for every diagonal block, in place: U = R⁻¹ is upper triangular, so its diagonal
     * blocks are the inverses of R's. False when an inverse overflows (the caller then raises the damping).
     */
    private static boolean invertDiagonalBlocks(OffHeapMatrix factor, int block) {
        int n = factor.rows();
        for (int o1 = 0; o1 < n; o1 += block) {
            int len = Math.min(block, n - o1);
            if (Lapack.triangularInverseLower(factor.view(o1, o1, len, len)) != 0) return false;
            if (!positiveFiniteDiagonal(factor, o1, o1 + len)) return false;
            float[] row = new float[len];
            for (int i = 0; i < len; i++) {
                factor.readRow(o1 + i, o1, row, 0, i + 1);
                for (int j = 0; j <= i; j++) if (!Float.isFinite(row[j])) return false;
            }
        }
        return true;
    }

    /** Rᵀ[S,&lt;S] → C_Sᵀ = U[S,S]ᵀ·R[&lt;S,S]ᵀ for every block after the first, in place. */
    private static void carryPanels(OffHeapMatrix factor, int block) {
        int n = factor.rows();
        for (int o1 = block; o1 < n; o1 += block) {
            int len = Math.min(block, n - o1);
            Blas.triangularMultiplyLower(factor.view(o1, o1, len, len), factor.view(o1, 0, len, o1));
        }
    }

    /**
     * M[a][b] ↔ M[n−1−b][n−1−a] for the lower triangle, in place: turns L into Rᵀ = (J·L·J)ᵀ. With the columns read
     * in reverse (c' = n−1−b) the map is a plain transpose, so it runs as swaps of transposed tile pairs. Elements
     * of the upper triangle move along with their tiles; they are never read.
     */
    static void reflectLower(OffHeapMatrix m) {
        int n = m.rows();
        // each tile pair is touched by one (i0, j0) only, so the rows of tiles can be swapped in parallel
        IntStream.range(0, (n + TILE - 1) / TILE).parallel().forEach(ti -> {
            int i0 = ti * TILE;
            int ri = Math.min(TILE, n - i0);
            for (int j0 = 0; j0 <= i0; j0 += TILE) {
                int rj = Math.min(TILE, n - j0);
                if (i0 + ri - 1 + j0 + rj - 1 < n - 1) continue; // the tile pair lies wholly above the anti-diagonal
                float[] p = readReversed(m, i0, j0, ri, rj);
                float[] q = readReversed(m, j0, i0, rj, ri);
                writeReversed(m, i0, j0, ri, rj, transpose(q, rj, ri));
                writeReversed(m, j0, i0, rj, ri, transpose(p, ri, rj));
            }
        });
    }

    /** Rows [r0, r0+rows), reversed columns c' in [c0, c0+cols) (column n−1−c'), row-major. */
    private static float[] readReversed(OffHeapMatrix m, int r0, int c0, int rows, int cols) {
        int n = m.cols();
        float[] raw = m.view(r0, n - c0 - cols, rows, cols).toArray();
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = raw[r * cols + cols - 1 - c];
        return out;
    }

    private static void writeReversed(OffHeapMatrix m, int r0, int c0, int rows, int cols, float[] values) {
        int n = m.cols();
        float[] raw = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) raw[r * cols + cols - 1 - c] = values[r * cols + c];
        m.view(r0, n - c0 - cols, rows, cols).write(raw);
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    public int features() { return n; }

    /** Inputs whose Hessian diagonal was zero: their weights are zeroed before quantisation. */
    public boolean dead(int column) { return dead[column]; }

    public int deadCount() { return deadCount; }

    /** Original column of each permuted position. */
    int[] permutation() { return perm; }

    /** Columns per block: the diagonal blocks of U that {@link #factor()} holds. */
    public int blockColumns() { return blockColumns; }

    /** U[S,S]ᵀ in the diagonal blocks, C_Sᵀ left of them (class comment), n×n. */
    OffHeapMatrix factor() { return factor; }

    public double dampFraction() { return dampFraction; }

    public float dampAbsolute() { return dampAbsolute; }

    public int dampAttempts() { return dampAttempts; }

    /** Time the factorisation took. */
    public double seconds() { return seconds; }

    /** U[i][j] for j ≥ i in the same block (permuted positions), for tests and diagnostics. */
    public float upper(int i, int j) {
        if (j < i) throw new IllegalArgumentException("U is upper triangular: (" + i + ", " + j + ") is below the diagonal");
        if (i / blockColumns != j / blockColumns) {
            throw new IllegalArgumentException("only U's diagonal blocks are kept: " + i + " and " + j + " lie in different blocks");
        }
        return factor.get(j, i);
    }

    /** C[j][i], the pull of quantised column j's residual on column i of a later block, for tests and diagnostics. */
    public float carry(int j, int i) {
        if (j >= i / blockColumns * blockColumns) {
            throw new IllegalArgumentException("column " + j + " is not before the block of column " + i);
        }
        return factor.get(i, j);
    }

    @Override public void close() { factor.close(); }
}
