package zq.formats.gptq;

/**
 * The four tensors of one quantised Linear as a checkpoint stores them (row-major arrays, see {@link GptqPart});
 * {@code scales} are fp16 bits.
 */
public record PackedLinear(int inFeatures, int outFeatures, int groups, int[] qweight, int[] qzeros,
                           short[] scales, int[] gIdx, ZeroFormat zeroFormat) {}
