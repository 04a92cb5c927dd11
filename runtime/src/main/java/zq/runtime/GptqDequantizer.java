package zq.runtime;

import zq.formats.QuantizationConfig;

import java.util.stream.IntStream;

/**
 * Turns a GPTQ Int4 Linear (AutoGPTQ layout, gptq.md §3) back into its fp32 weight
 * {@code W[out][in]}: {@code W[n][k] = scale[g][n] · (q[k][n] − zero[g][n])} with {@code g = g_idx[k]}.
 * <ul>
 *   <li>{@code qweight [in/8, out]}: input row {@code k = 8r+j} sits in bits {@code [4j, 4j+3]} of word {@code (r, n)};</li>
 *   <li>{@code qzeros [G, out/8]}: output column {@code n = 8c+j} sits in bits {@code [4j, 4j+3]} of word {@code (g, c)};
 *       v1 ("gptq") stores zero − 1, gptq_v2 stores the zero itself;</li>
 *   <li>{@code scales [G, out]} (fp16 on disk), {@code g_idx [in]} in any order (act-order), G = number of groups.</li>
 * </ul>
 * The product of an fp16 scale and an integer in [−16, 15] is exact in fp32, so the result is exactly the
 * value the layout implies. Work is done in tiles of output columns so that reads of {@code qweight}
 * and writes of {@code W} both stay in cache.
 */
public final class GptqDequantizer {
    private static final int BITS = 4;
    private static final int PER_WORD = 32 / BITS;
    private static final int MASK = (1 << BITS) - 1;
    private static final int TILE = 64;

    private GptqDequantizer() {}

    /** How {@code qzeros} encodes a zero point. */
    public enum ZeroConvention {
        /** Checkpoint format "gptq" (v1): the stored nibble is zero − 1. */
        STORED_MINUS_ONE,
        /** Checkpoint format "gptq_v2": the stored nibble is the zero. */
        STORED_AS_IS;

        public static ZeroConvention of(QuantizationConfig q) {
            return q.zerosStoredMinusOne() ? STORED_MINUS_ONE : STORED_AS_IS;
        }

        int offset() { return this == STORED_MINUS_ONE ? 1 : 0; }
    }

    /**
     * The dense weight, row-major {@code [outFeatures][inFeatures]} as PyTorch stores a Linear.
     *
     * @param name    the Linear's name, for error messages
     * @param scales  the fp16 scales widened to fp32, {@code [G, out]}
     */
    public static float[] dequantize(String name, int[] qweight, int[] qzeros, float[] scales, int[] gIdx,
                                     int inFeatures, int outFeatures, ZeroConvention zeros) {
        int groups = checkShapes(name, qweight.length, scales, gIdx, inFeatures, outFeatures);
        int[] zero = unpackZeros(name, qzeros, groups, outFeatures, zeros);
        float[] w = new float[Math.multiplyExact(inFeatures, outFeatures)];
        int words = inFeatures / PER_WORD;
        int tiles = (outFeatures + TILE - 1) / TILE;
        IntStream.range(0, tiles).parallel().forEach(t -> {
            int n0 = t * TILE, n1 = Math.min(outFeatures, n0 + TILE);
            for (int r = 0; r < words; r++) {
                int rowBase = r * outFeatures;
                for (int n = n0; n < n1; n++) {
                    int word = qweight[rowBase + n];
                    int dst = n * inFeatures + r * PER_WORD;
                    for (int j = 0; j < PER_WORD; j++) {
                        int k = r * PER_WORD + j;
                        int g = gIdx[k];
                        int q = (word >>> (BITS * j)) & MASK;
                        w[dst + j] = scales[g * outFeatures + n] * (q - zero[g * outFeatures + n]);
                    }
                }
            }
        });
        return w;
    }

    /** The 4-bit codes {@code q[k][n]}, row-major {@code [in][out]}, as packed in {@code qweight}. */
    public static int[] unpackCodes(int[] qweight, int inFeatures, int outFeatures) {
        if (inFeatures % PER_WORD != 0 || qweight.length != (long) inFeatures / PER_WORD * outFeatures) {
            throw new IllegalArgumentException("qweight has " + qweight.length + " words, expected [" + inFeatures / PER_WORD
                    + ", " + outFeatures + "] for in_features " + inFeatures);
        }
        int[] q = new int[inFeatures * outFeatures];
        for (int k = 0; k < inFeatures; k++) {
            int r = k / PER_WORD, shift = BITS * (k % PER_WORD);
            for (int n = 0; n < outFeatures; n++) q[k * outFeatures + n] = (qweight[r * outFeatures + n] >>> shift) & MASK;
        }
        return q;
    }

    /** The zero points {@code zero[g][n]}, row-major {@code [G][out]}, with the convention's offset applied. */
    public static int[] unpackZeros(String name, int[] qzeros, int groups, int outFeatures, ZeroConvention zeros) {
        if (outFeatures % PER_WORD != 0 || qzeros.length != (long) groups * (outFeatures / PER_WORD)) {
            throw new IllegalArgumentException(name + ": qzeros has " + qzeros.length + " words, expected [" + groups + ", "
                    + outFeatures / PER_WORD + "]");
        }
        int[] z = new int[groups * outFeatures];
        int cols = outFeatures / PER_WORD;
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < outFeatures; n++) {
                int word = qzeros[g * cols + n / PER_WORD];
                z[g * outFeatures + n] = ((word >>> (BITS * (n % PER_WORD))) & MASK) + zeros.offset();
            }
        }
        return z;
    }

    /** Checks the shapes of a GPTQ Int4 Linear's tensors and g_idx's range; returns the number of groups. */
    static int checkShapes(String name, long qweightWords, float[] scales, int[] gIdx, int in, int out) {
        if (in <= 0 || out <= 0 || in % PER_WORD != 0 || out % PER_WORD != 0) {
            throw new IllegalArgumentException(name + ": GPTQ Int4 needs in_features and out_features that are positive multiples of 8, got in "
                    + in + ", out " + out);
        }
        if (qweightWords != (long) in / PER_WORD * out) {
            throw new IllegalArgumentException(name + ": qweight has " + qweightWords + " words, expected [" + in / PER_WORD + ", " + out + "]");
        }
        if (scales.length == 0 || scales.length % out != 0) {
            throw new IllegalArgumentException(name + ": scales has " + scales.length + " values, not a whole number of groups of " + out);
        }
        int groups = scales.length / out;
        if (gIdx.length != in) {
            throw new IllegalArgumentException(name + ": g_idx has " + gIdx.length + " entries, expected in_features " + in);
        }
        for (int k = 0; k < in; k++) {
            if (gIdx[k] < 0 || gIdx[k] >= groups) {
                throw new IllegalArgumentException(name + ": g_idx[" + k + "] = " + gIdx[k] + " is outside the " + groups + " groups of scales");
            }
        }
        return groups;
    }
}
