package zq.gptq;

import zq.formats.HalfFloats;

/**
 * AutoGPTQ's v1 ("gptq") 4-bit tensor layout (gptq.md §3), and GPTQModel's "gptq_v2" zero variant.
 * K = in_features, N = out_features, G = groups:
 * <ul>
 *   <li>qweight int32 [K/8][N]: input row k = 8r+j sits in bits 4j..4j+3 of word (r, n), lowest nibble first;</li>
 *   <li>qzeros int32 [G][N/8]: output column n = 8c+j in bits 4j..4j+3 of word (g, c); v1 stores zero−1, v2 stores zero;</li>
 *   <li>scales fp16 [G][N], round to nearest even;</li>
 *   <li>g_idx int32 [K].</li>
 * </ul>
 * A loader decodes w[n][k] = scale[g][n]·(q[k][n] − z[g][n]) with g = g_idx[k] and z = stored + 1 for v1.
 *
 * <p>v1 cannot hold a zero point of 0 (AutoGPTQ writes −1, which corrupts the whole word, gptq.md §3.3), so
 * packing such a zero in v1 is refused instead of writing a file that decodes wrong. Symmetric
 * quantisation never produces one (its zero is 8, stored as 0x77777777).
 */
public final class Int4Packing {
    private Int4Packing() {}

    /** Which zero-point convention qzeros uses: checkpoint_format "gptq" (v1) or "gptq_v2". */
    public enum ZeroFormat {
        GPTQ_V1(1), GPTQ_V2(0);

        private final int offset;

        ZeroFormat(int offset) { this.offset = offset; }

        /** What is subtracted from a zero point before it is stored. */
        public int offset() { return offset; }
    }

    /** The four tensors of one quantised Linear as a checkpoint stores them (row-major arrays). */
    public record PackedLinear(int inFeatures, int outFeatures, int groups, int[] qweight, int[] qzeros,
                               short[] scales, int[] gIdx, ZeroFormat zeroFormat) {}

    public static PackedLinear pack(String layer, QuantizedLinear q, ZeroFormat format) {
        int in = q.inFeatures();
        int out = q.outFeatures();
        checkShape(layer, in, out);
        return new PackedLinear(in, out, q.groups(), packCodes(layer, q.codes(), out, in),
                packZeros(layer, q.zeros(), q.groups(), out, format), scalesToF16(layer, q.scales()),
                q.gIdx().clone(), format);
    }

    /** codes [out][in] (0..15) to qweight [in/8][out]. */
    public static int[] packCodes(String layer, byte[] codes, int out, int in) {
        checkShape(layer, in, out);
        if (codes.length != out * in) {
            throw new IllegalArgumentException(layer + ": " + codes.length + " codes, expected " + out + "x" + in);
        }
        int[] qweight = new int[in / 8 * out];
        for (int n = 0; n < out; n++) {
            for (int k = 0; k < in; k++) {
                int c = codes[n * in + k];
                if (c < 0 || c > 15) {
                    throw new IllegalArgumentException(layer + ": code " + c + " at [" + n + "][" + k + "] is not 4-bit");
                }
                qweight[(k >> 3) * out + n] |= c << (4 * (k & 7));
            }
        }
        return qweight;
    }

    /** qweight [in/8][out] to codes [out][in]. */
    public static byte[] unpackCodes(String layer, int[] qweight, int in, int out) {
        checkShape(layer, in, out);
        if (qweight.length != in / 8 * out) {
            throw new IllegalArgumentException(layer + ".qweight has " + qweight.length + " words, expected "
                    + (in / 8) + "x" + out);
        }
        byte[] codes = new byte[out * in];
        for (int k = 0; k < in; k++) {
            int shift = 4 * (k & 7);
            int rowBase = (k >> 3) * out;
            for (int n = 0; n < out; n++) codes[n * in + k] = (byte) ((qweight[rowBase + n] >>> shift) & 0xF);
        }
        return codes;
    }

    /** Zero points [G][out] to qzeros [G][out/8] in the given format. */
    public static int[] packZeros(String layer, int[] zeros, int groups, int out, ZeroFormat format) {
        if (out % 8 != 0) throw outNotMultipleOf8(layer, out);
        if (zeros.length != groups * out) {
            throw new IllegalArgumentException(layer + ": " + zeros.length + " zero points, expected " + groups + "x" + out);
        }
        int[] qzeros = new int[groups * (out / 8)];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                int stored = zeros[g * out + n] - format.offset();
                if (stored < 0 || stored > 15) {
                    throw new IllegalArgumentException(layer + ": zero point " + zeros[g * out + n] + " of group " + g
                            + ", column " + n + " cannot be stored in " + format
                            + (stored < 0 ? " (v1 stores zero-1; use sym=true or gptq_v2)" : ""));
                }
                qzeros[g * (out / 8) + (n >> 3)] |= stored << (4 * (n & 7));
            }
        }
        return qzeros;
    }

    /** qzeros [G][out/8] to the zero points [G][out] they mean. */
    public static int[] unpackZeros(String layer, int[] qzeros, int groups, int out, ZeroFormat format) {
        if (out % 8 != 0) throw outNotMultipleOf8(layer, out);
        if (qzeros.length != groups * (out / 8)) {
            throw new IllegalArgumentException(layer + ".qzeros has " + qzeros.length + " words, expected "
                    + groups + "x" + (out / 8));
        }
        int[] zeros = new int[groups * out];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                zeros[g * out + n] = ((qzeros[g * (out / 8) + (n >> 3)] >>> (4 * (n & 7))) & 0xF) + format.offset();
            }
        }
        return zeros;
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

    /** The weights a loader decodes, [out][in] row-major float32. */
    public static float[] dequantize(String layer, PackedLinear p) {
        int in = p.inFeatures();
        int out = p.outFeatures();
        byte[] codes = unpackCodes(layer, p.qweight(), in, out);
        int[] zeros = unpackZeros(layer, p.qzeros(), p.groups(), out, p.zeroFormat());
        if (p.scales().length != p.groups() * out) {
            throw new IllegalArgumentException(layer + ".scales has " + p.scales().length + " values, expected "
                    + p.groups() + "x" + out);
        }
        if (p.gIdx().length != in) {
            throw new IllegalArgumentException(layer + ".g_idx has " + p.gIdx().length + " entries, expected " + in);
        }
        float[] w = new float[out * in];
        for (int k = 0; k < in; k++) {
            int g = p.gIdx()[k];
            if (g < 0 || g >= p.groups()) {
                throw new IllegalArgumentException(layer + ".g_idx[" + k + "] = " + g + " is outside [0, " + p.groups() + ")");
            }
            for (int n = 0; n < out; n++) {
                float scale = HalfFloats.f16ToFloat(p.scales()[g * out + n]);
                w[n * in + k] = QuantGrid.dequantize(codes[n * in + k], scale, zeros[g * out + n]);
            }
        }
        return w;
    }

    private static void checkShape(String layer, int in, int out) {
        if (in <= 0 || in % 8 != 0) {
            throw new IllegalArgumentException(layer + ": in_features " + in + " is not a positive multiple of 8; "
                    + "qweight packs 8 input rows per int32");
        }
        if (out <= 0 || out % 8 != 0) throw outNotMultipleOf8(layer, out);
    }

    private static IllegalArgumentException outNotMultipleOf8(String layer, int out) {
        return new IllegalArgumentException(layer + ": out_features " + out + " is not a positive multiple of 8; "
                + "qzeros packs 8 output columns per int32");
    }
}
