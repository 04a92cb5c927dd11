package zq.formats.gptq;

import java.util.stream.IntStream;
import zq.formats.HalfFloats;

/**
 * AutoGPTQ's 4-bit Linear layout, packing beside unpacking (docs/gptq.md, "The AutoGPTQ layout").
 * K = in_features, N = out_features, G = groups:
 * <ul>
 *   <li>qweight int32 [K/8][N]: input row k = 8r+j sits in bits 4j..4j+3 of word (r, n), lowest nibble first;</li>
 *   <li>qzeros int32 [G][N/8]: output column n = 8c+j in bits 4j..4j+3 of word (g, c), stored as
 *       {@link ZeroFormat} says (v1: zero − 1, v2: zero);</li>
 *   <li>scales fp16 [G][N], rounded to nearest even; g_idx int32 [K], in any order (act-order).</li>
 * </ul>
 * A loader decodes {@code W[n][k] = scale[g][n]·(q[k][n] − zero[g][n])} with {@code g = g_idx[k]}. The product of an
 * fp16 scale and an integer in [−16, 15] is exact in fp32, so the decoded weight is exactly the value the layout
 * implies.
 *
 * <p>v1 cannot hold a zero point of 0 (AutoGPTQ writes −1, whose sign bits corrupt the whole word), so packing
 * such a zero in v1 is refused instead of writing a file that decodes wrong. Symmetric quantisation never produces
 * one (its zero is 8, stored as 0x77777777).
 */
public final class Int4Layout {
    /** Bits per code. */
    public static final int BITS = 4;
    /** Codes per int32 word. */
    public static final int PER_WORD = 32 / BITS;
    private static final int MASK = (1 << BITS) - 1;
    /** Output columns per tile of the decoder, so that reads of qweight and writes of W both stay in cache. */
    private static final int TILE = 64;

    private Int4Layout() {}

    /**
     * Packs one quantised Linear.
     *
     * @param codes  [out][in] row-major, 0..15
     * @param zeros  [G][out] integer zero points
     * @param scales [G][out] float32, stored as fp16
     * @param gIdx   [in] group of each input column
     */
    public static PackedLinear pack(String layer, byte[] codes, int[] zeros, float[] scales, int[] gIdx, int groups,
                                    int out, int in, ZeroFormat format) {
        checkShape(layer, in, out);
        return new PackedLinear(in, out, groups, packCodes(layer, codes, out, in), packZeros(layer, zeros, groups, out, format),
                scalesToF16(layer, scales), gIdx.clone(), format);
    }

    /** codes [out][in] (0..15) to qweight [in/8][out]. */
    public static int[] packCodes(String layer, byte[] codes, int out, int in) {
        checkShape(layer, in, out);
        if (codes.length != out * in) {
            throw new IllegalArgumentException(layer + ": " + codes.length + " codes, expected " + out + "x" + in);
        }
        for (int i = 0; i < codes.length; i++) {
            int c = codes[i];
            if (c < 0 || c > MASK) {
                throw new IllegalArgumentException(layer + ": code " + c + " at [" + (i / in) + "][" + (i % in) + "] is not 4-bit");
            }
        }
        int[] qweight = new int[in / PER_WORD * out];
        int words = in / PER_WORD;
        // bands of 64 output columns, word row by word row: each task writes whole cache lines of qweight
        IntStream.range(0, (out + 63) / 64).parallel().forEach(band -> {
            int n1 = Math.min(out, band * 64 + 64);
            for (int w = 0; w < words; w++) {
                for (int n = band * 64; n < n1; n++) {
                    int word = 0;
                    int at = n * in + w * PER_WORD;
                    for (int j = 0; j < PER_WORD; j++) word |= codes[at + j] << (BITS * j);
                    qweight[w * out + n] = word;
                }
            }
        });
        return qweight;
    }

    /** Zero points [G][out] to qzeros [G][out/8] in the given format. */
    public static int[] packZeros(String layer, int[] zeros, int groups, int out, ZeroFormat format) {
        if (out % PER_WORD != 0) throw outNotMultipleOf8(layer, out);
        if (zeros.length != groups * out) {
            throw new IllegalArgumentException(layer + ": " + zeros.length + " zero points, expected " + groups + "x" + out);
        }
        int[] qzeros = new int[groups * (out / PER_WORD)];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                int stored = zeros[g * out + n] - format.offset();
                if (stored < 0 || stored > MASK) {
                    throw new IllegalArgumentException(layer + ": zero point " + zeros[g * out + n] + " of group " + g
                            + ", column " + n + " cannot be stored in " + format
                            + (stored < 0 ? " (v1 stores zero-1; use sym=true or gptq_v2)" : ""));
                }
                qzeros[g * (out / PER_WORD) + (n / PER_WORD)] |= stored << (BITS * (n % PER_WORD));
            }
        }
        return qzeros;
    }

    /** Scales to fp16 bits; a scale beyond fp16's range is an error, not an infinity in the file. */
    public static short[] scalesToF16(String layer, float[] scales) {
        short[] out = new short[scales.length];
        for (int i = 0; i < scales.length; i++) {
            if (!Float.isFinite(scales[i]) || HalfFloats.overflowsF16(scales[i])) {
                throw new IllegalArgumentException(layer + ": scale " + scales[i] + " at index " + i + " does not fit fp16");
            }
            out[i] = HalfFloats.floatToF16(scales[i]);
        }
        return out;
    }

    /**
     * The dense weight, row-major {@code [outFeatures][inFeatures]} as PyTorch stores a Linear.
     *
     * @param name    the Linear's name, for error messages
     * @param scales  the fp16 scales widened to fp32, {@code [G, out]}
     */
    public static float[] dequantize(String name, int[] qweight, int[] qzeros, float[] scales, int[] gIdx,
                                     int inFeatures, int outFeatures, ZeroFormat zeros) {
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

    /** The zero points {@code zero[g][n]}, row-major {@code [G][out]}, with the format's offset added back. */
    public static int[] unpackZeros(String name, int[] qzeros, int groups, int outFeatures, ZeroFormat zeros) {
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

    /**
     * Checks the shapes of a Linear's qweight ({@code qweightWords} int32 words), scales and g_idx and that every
     * g_idx entry names a group; returns the number of groups.
     */
    public static int checkShapes(String name, long qweightWords, float[] scales, int[] gIdx, int in, int out) {
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

    private static void checkShape(String layer, int in, int out) {
        if (in <= 0 || in % PER_WORD != 0) {
            throw new IllegalArgumentException(layer + ": in_features " + in + " is not a positive multiple of 8; "
                    + "qweight packs 8 input rows per int32");
        }
        if (out <= 0 || out % PER_WORD != 0) throw outNotMultipleOf8(layer, out);
    }

    private static IllegalArgumentException outNotMultipleOf8(String layer, int out) {
        return new IllegalArgumentException(layer + ": out_features " + out + " is not a positive multiple of 8; "
                + "qzeros packs 8 output columns per int32");
    }
}
