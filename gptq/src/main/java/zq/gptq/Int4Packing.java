package zq.gptq;

import zq.formats.HalfFloats;
import zq.runtime.GptqDequantizer;
import zq.runtime.GptqDequantizer.ZeroConvention;

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
        GPTQ_V1(1, "gptq", ZeroConvention.STORED_MINUS_ONE), GPTQ_V2(0, "gptq_v2", ZeroConvention.STORED_AS_IS);

        private final int offset;
        private final String checkpointFormat;
        private final ZeroConvention convention;

        ZeroFormat(int offset, String checkpointFormat, ZeroConvention convention) {
            this.offset = offset;
            this.checkpointFormat = checkpointFormat;
            this.convention = convention;
        }

        /** What is subtracted from a zero point before it is stored. */
        public int offset() { return offset; }

        /** The quantization_config "checkpoint_format" value that announces this convention to loaders. */
        public String checkpointFormat() { return checkpointFormat; }

        /** How the runtime's reader decodes this convention. */
        public ZeroConvention convention() { return convention; }
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
     * The weights a loader decodes, [out][in] row-major float32, through the runtime's own decoder
     * ({@link GptqDequantizer}) so that packing and reading are checked against each other.
     */
    public static float[] dequantize(String layer, PackedLinear p) {
        float[] scales = new float[p.scales().length];
        for (int i = 0; i < scales.length; i++) scales[i] = HalfFloats.f16ToFloat(p.scales()[i]);
        return GptqDequantizer.dequantize(layer, p.qweight(), p.qzeros(), scales, p.gIdx(), p.inFeatures(),
                p.outFeatures(), p.zeroFormat().convention());
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
