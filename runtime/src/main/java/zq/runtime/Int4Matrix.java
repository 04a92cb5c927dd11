package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.LinearRef;
import zq.formats.TensorInfo;
import zq.formats.gptq.Int4Layout;
import zq.formats.gptq.ZeroFormat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * A GPTQ Int4 Linear multiplied by one vector straight from its packed {@code qweight} (memory-mapped, never
 * unpacked), the layout of {@link Int4Layout}. With {@code W[n][k] = s[g][n]·(q[k][n] − z[g][n])} and
 * {@code g = g_idx[k]}:
 * <pre>
 *   y[n] = Σ_k x[k]·s[g_idx[k]][n]·q[k][n]  −  Σ_g s[g][n]·z[g][n] · (Σ_{k: g_idx[k]=g} x[k])
 * </pre>
 * The second sum costs one pass over the small {@code [G × out]} table of {@code s·z}. In the first, a word
 * of {@code qweight} holds the codes of 8 consecutive inputs k for one output n: when those 8 inputs share a
 * group (groups in input order, the usual case), the word's 8 products are summed unscaled and scaled once;
 * under act-order each code takes its own input's group scale. Work is split over a few wide tiles of output
 * columns per core, so each task reads long contiguous runs of every word row.
 */
public final class Int4Matrix implements MatVec {
    private static final int PER_WORD = 8;
    /**
     * Widest tile: 8192 columns, a 32 KB run of every word row. Longer runs are what the hardware prefetcher streams
     * best: on the 2-core machine a 4096 × 13056 product (up_proj) went from a median 7.9 GB/s in 1664-column tiles
     * (6.5 KB runs) to 12.7 in two 6528-column ones, while the 4096-wide products keep one 2048-column tile per core.
     */
    private static final int MAX_TILE = 8192;
    /**
     * What the vector kernel multiplies input {@code 8r+j} by before it meets code j left in place
     * ({@code q_j·16^j}): 16^−j, a power of two, so the product rounds as {@code x·q_j} does. Code 7 is
     * shifted down instead (in place it would sit in the sign bit), code 0 sits at the bottom already.
     */
    static final float[] NIBBLE_WEIGHT = {1, 0x1p-4f, 0x1p-8f, 0x1p-12f, 0x1p-16f, 0x1p-20f, 0x1p-24f, 1};

    private final String name;
    private final ByteBuffer qweight;         // [in/8 × out] little-endian words, inputs in the order of inputOrder
    private final float[] scales;             // [G × out]
    private final float[] scaledZeros;        // [G × out]: s·z
    private final int[] gIdx;                 // [in], of the inputs as qweight orders them
    private final int[] inputOrder;           // null, or input k of qweight is input inputOrder[k] of the checkpoint
    private final int[] wordGroup;            // [in/8]: the group all 8 inputs of a word row share, or −1
    private final boolean storedInInputOrder; // whether the checkpoint's g_idx already gives every word one group
    private final int in, out, groups, tile;
    private boolean vectorized = VectorSupport.AVAILABLE;

    /**
     * @param qweight the packed codes {@code [in/8 × out]}, little-endian (the mapped tensor, or a buffer in tests)
     * @param scales  fp32 scales {@code [G × out]}
     */
    public Int4Matrix(String name, ByteBuffer qweight, int[] qzeros, float[] scales, int[] gIdx, int in, int out,
                      ZeroFormat zeros) {
        this(name, qweight, qzeros, scales, gIdx, in, out, zeros, true);
    }

    /**
     * @param regroup whether an act-order matrix is repacked with its inputs sorted by group (tests turn it off to
     *                exercise the per-code scale path)
     */
    Int4Matrix(String name, ByteBuffer qweight, int[] qzeros, float[] scales, int[] gIdx, int in, int out,
               ZeroFormat zeros, boolean regroup) {
        this.name = name;
        this.groups = Int4Layout.checkShapes(name, qweight.remaining() / 4, scales, gIdx, in, out);
        int[] z = Int4Layout.unpackZeros(name, qzeros, groups, out, zeros);
        this.scales = scales;
        this.scaledZeros = new float[scales.length];
        for (int i = 0; i < scales.length; i++) scaledZeros[i] = scales[i] * z[i];
        this.in = in;
        this.out = out;
        this.tile = tileWidth(out, Runtime.getRuntime().availableProcessors());
        ByteBuffer words = qweight.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.storedInInputOrder = allOneGroup(wordGroups(gIdx));
        int[] order = regroup && !storedInInputOrder ? groupOrder(gIdx, groups) : null;
        if (order != null) {
            this.qweight = regrouped(words, order, in, out);
            this.gIdx = new int[in];
            for (int k = 0; k < in; k++) this.gIdx[k] = gIdx[order[k]];
        } else {
            this.qweight = words;
            this.gIdx = gIdx;
        }
        this.inputOrder = order;
        this.wordGroup = wordGroups(this.gIdx);
    }

    /** For every word row, the group all 8 of its inputs share, or −1. */
    private static int[] wordGroups(int[] gIdx) {
        int[] wg = new int[gIdx.length / PER_WORD];
        for (int r = 0; r < wg.length; r++) {
            int g = gIdx[r * PER_WORD];
            for (int j = 1; j < PER_WORD; j++) if (gIdx[r * PER_WORD + j] != g) g = -1;
            wg[r] = g;
        }
        return wg;
    }

    private static boolean allOneGroup(int[] wordGroups) {
        for (int g : wordGroups) if (g < 0) return false;
        return true;
    }

    /**
     * The inputs sorted by group (stably), when every group has a multiple of 8 inputs, so that every word of the
     * repacked matrix holds one group's codes (act-order checkpoints: each group is {@code group_size} inputs
     * scattered over the row); null when some group's size is not a multiple of 8.
     */
    private static int[] groupOrder(int[] gIdx, int groups) {
        int[] start = new int[groups + 1];
        for (int g : gIdx) start[g + 1]++;
        for (int g = 0; g < groups; g++) {
            if (start[g + 1] % PER_WORD != 0) return null;
            start[g + 1] += start[g];
        }
        int[] order = new int[gIdx.length];
        for (int k = 0; k < gIdx.length; k++) order[start[gIdx[k]]++] = k;
        return order;
    }

    /**
     * qweight with its inputs in {@code order}: word row r of the result holds the codes of inputs order[8r..8r+7].
     * Under act-order the fused product otherwise multiplies each code by its own scale (8 scale loads a word, about
     * a third of the speed); repacked once, every word takes one scale, at the price of a native copy of qweight
     * (the mapped file is then read only here).
     */
    private static ByteBuffer regrouped(ByteBuffer words, int[] order, int in, int out) {
        int[] src = new int[(in / PER_WORD) * out];
        words.asIntBuffer().get(src);
        int[] position = new int[in];
        for (int k = 0; k < in; k++) position[order[k]] = k;
        int[] dst = new int[src.length];
        // column blocks, so that tasks never write the same word; each stored word is read once
        IntStream.range(0, (out + 1023) / 1024).parallel().forEach(block -> {
            int n0 = block * 1024, n1 = Math.min(out, n0 + 1024);
            for (int k = 0; k < in; k++) {
                int from = (k / PER_WORD) * out, shift = 4 * (k % PER_WORD);
                int to = (position[k] / PER_WORD) * out, place = 4 * (position[k] % PER_WORD);
                for (int n = n0; n < n1; n++) dst[to + n] |= ((src[from + n] >>> shift) & 15) << place;
            }
        });
        ByteBuffer packed = ByteBuffer.allocateDirect(4 * dst.length).order(ByteOrder.LITTLE_ENDIAN);
        packed.asIntBuffer().put(dst);
        return packed;
    }

    /**
     * Columns per task: a few tasks per core (no core idles while another finishes a large tile), each as wide
     * as {@link #MAX_TILE} allows, since a longer run of each word row is what the hardware prefetcher streams
     * best; a multiple of 64 so the vector lanes divide it.
     */
    static int tileWidth(int out, int cores) {
        int tasks = cores * Math.max(1, (out + cores * MAX_TILE - 1) / (cores * MAX_TILE));
        int w = (out + tasks - 1) / tasks;
        return Math.max(64, (w + 63) / 64 * 64);
    }

    /** The Linear {@code ref} of a GPTQ checkpoint, its qweight used in place in the mapped file. */
    public static Int4Matrix of(Checkpoint checkpoint, LinearRef ref) {
        TensorInfo q = checkpoint.info(ref.qweight());
        if (q.dtype() != DType.I32) {
            throw new CheckpointException(checkpoint.fileOf(ref.qweight()).path() + ": tensor '" + ref.qweight() + "' is " + q.dtype() + ", expected I32");
        }
        ByteBuffer words = checkpoint.fileOf(ref.qweight()).map(q);
        return new Int4Matrix(checkpoint.dir() + ": " + ref.prefix(), words, checkpoint.ints(ref.qzeros()),
                checkpoint.floats(ref.scales()), checkpoint.ints(ref.gIdx()), ref.inFeatures(), ref.outFeatures(),
                checkpoint.config().quantization().zeroFormat());
    }

    /** Uses the scalar loops even where the Vector API is available (to test both). */
    Int4Matrix scalar() {
        vectorized = false;
        return this;
    }

    @Override public int rows() { return out; }

    @Override public int cols() { return in; }

    /** qweight, scales (fp16 on disk), qzeros and g_idx as stored. */
    @Override public long storedBytes() {
        return 4L * in / PER_WORD * out + 2L * groups * out + (long) groups * out / 2 + 4L * in;
    }

    /** True when the checkpoint's g_idx gives every word of qweight one group (groups in input order). */
    public boolean groupsFollowInputs() {
        return storedInInputOrder;
    }

    /** True when every word of the matrix as multiplied holds one group, so the one-scale-per-word path runs. */
    boolean oneScalePerWord() {
        return allOneGroup(wordGroup);
    }

    @Override public void multiply(float[] x, float[] y) {
        if (x.length != in || y.length != out) {
            throw new IllegalArgumentException(name + ": product of a [" + out + " × " + in + "] matrix with " + x.length
                    + " values into " + y.length);
        }
        float[] xs = x;
        if (inputOrder != null) {
            xs = new float[in];
            for (int k = 0; k < in; k++) xs[k] = x[inputOrder[k]];
        }
        float[] groupSums = new float[groups];
        for (int k = 0; k < in; k++) groupSums[gIdx[k]] += xs[k];
        int tiles = (out + tile - 1) / tile;
        float[] input = xs;
        IntStream.range(0, tiles).parallel().forEach(t -> tile(input, y, groupSums, t * tile, Math.min(out, t * tile + tile)));
    }

    private void tile(float[] x, float[] y, float[] groupSums, int n0, int n1) {
        int width = n1 - n0;
        float[] acc = new float[width];
        int simd = vectorized ? width - width % VectorKernels.int4Lanes() : 0;
        if (simd > 0) VectorKernels.int4Tile(qweight, out, wordGroup, gIdx, scales, x, n0, simd, acc);
        int[] scaleRow = new int[PER_WORD];
        float[] xs = new float[PER_WORD];
        for (int r = 0; r < wordGroup.length && simd < width; r++) {
            int base = r * out + n0, k0 = r * PER_WORD;
            float x0 = x[k0], x1 = x[k0 + 1], x2 = x[k0 + 2], x3 = x[k0 + 3], x4 = x[k0 + 4], x5 = x[k0 + 5], x6 = x[k0 + 6], x7 = x[k0 + 7];
            int g = wordGroup[r];
            if (g >= 0) {
                int s0 = g * out + n0;
                for (int n = simd; n < width; n++) {
                    int w = qweight.getInt(4 * (base + n));
                    float dot = x0 * (w & 15) + x1 * ((w >>> 4) & 15) + x2 * ((w >>> 8) & 15) + x3 * ((w >>> 12) & 15)
                            + x4 * ((w >>> 16) & 15) + x5 * ((w >>> 20) & 15) + x6 * ((w >>> 24) & 15) + x7 * (w >>> 28);
                    acc[n] += scales[s0 + n] * dot;
                }
            } else {
                for (int j = 0; j < PER_WORD; j++) {
                    scaleRow[j] = gIdx[k0 + j] * out + n0;
                    xs[j] = x[k0 + j];
                }
                for (int n = simd; n < width; n++) {
                    int w = qweight.getInt(4 * (base + n));
                    float sum = 0;
                    for (int j = 0; j < PER_WORD; j++) sum += xs[j] * scales[scaleRow[j] + n] * ((w >>> (4 * j)) & 15);
                    acc[n] += sum;
                }
            }
        }
        // group-major, so the s·z table is read row by row (a plain loop C2 vectorizes), not down its columns
        float[] zeroTerm = new float[width];
        for (int g = 0; g < groups; g++) {
            float sum = groupSums[g];
            int z0 = g * out + n0;
            for (int n = 0; n < width; n++) zeroTerm[n] += sum * scaledZeros[z0 + n];
        }
        for (int n = 0; n < width; n++) y[n0 + n] = acc[n] - zeroTerm[n];
    }
}
