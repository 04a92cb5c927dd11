package zq.gptq;

import java.util.stream.IntStream;
import zq.formats.HalfFloats;
import zq.formats.gptq.Int4Layout;
import zq.formats.gptq.PackedLinear;
import zq.formats.gptq.ZeroFormat;

/**
 * One Linear layer quantised to 4-bit codes, in the shapes AutoGPTQ's pack() consumes.
 *
 * @param outFeatures rows of the weight (N)
 * @param inFeatures  columns of the weight (K)
 * @param groupSize   columns per group as used for g_idx (in_features when the config says -1)
 * @param groups      number of groups G = in_features / groupSize
 * @param codes       [out][in] row-major, original column order, each in 0..15
 * @param scales      [G][out] float32, exactly as the solver used them (the checkpoint stores them as fp16)
 * @param zeros       [G][out] integer zero points (8 everywhere when sym)
 * @param gIdx        [in] group of each input column (non-monotone with act-order and dynamic groups)
 * @param dequantized [out][in] row-major: fp16(scale)·(code − zero) computed in float32, i.e. exactly the
 *                    weight a loader decodes from the written checkpoint (the product of an fp16 scale and
 *                    an integer in [-15, 15] is exact in float32 and representable in fp16 unless it
 *                    overflows). This is the weight the next sublayer should see during calibration.
 * @param report      the GPTQ solve's report, or null for round-to-nearest
 */
public record QuantizedLinear(int outFeatures, int inFeatures, int groupSize, int groups,
                              byte[] codes, float[] scales, int[] zeros, int[] gIdx,
                              float[] dequantized, GptqReport report) {

    /**
     * Builds the result and its dequantised weight from the integer outputs.
     *
     * @throws IllegalArgumentException when a scale does not fit fp16 (the checkpoint could not hold it)
     */
    static QuantizedLinear assemble(String layer, int out, int in, int groupSize, byte[] codes, float[] scales,
                                    int[] zeros, int[] gIdx, GptqReport report) {
        int groups = in / groupSize;
        float[] scale16 = new float[scales.length];
        for (int i = 0; i < scales.length; i++) {
            if (HalfFloats.overflowsF16(scales[i])) {
                throw new IllegalArgumentException(layer + ": scale " + scales[i] + " of group " + (i / out)
                        + ", row " + (i % out) + " overflows fp16; the weights are out of any fp16 model's range");
            }
            scale16[i] = HalfFloats.f16ToFloat(HalfFloats.floatToF16(scales[i]));
        }
        float[] deq = new float[codes.length];
        IntStream.range(0, out).parallel().forEach(r -> {
            for (int j = 0; j < in; j++) {
                int s = gIdx[j] * out + r;
                deq[r * in + j] = QuantGrid.dequantize(codes[r * in + j], scale16[s], zeros[s]);
            }
        });
        return new QuantizedLinear(out, in, groupSize, groups, codes, scales, zeros, gIdx, deq, report);
    }

    /** The four tensors a checkpoint stores for this Linear ({@link Int4Layout}). */
    public PackedLinear pack(String layer, ZeroFormat format) {
        return Int4Layout.pack(layer, codes, zeros, scales, gIdx, groups, outFeatures, inFeatures, format);
    }
}
