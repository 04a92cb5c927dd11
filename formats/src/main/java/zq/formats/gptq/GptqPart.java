package zq.formats.gptq;

import zq.formats.DType;

/**
 * The four tensors that replace a Linear's {@code weight} in an AutoGPTQ checkpoint, in the order the layout lists
 * them, with their dtype and shape ({@code K} = in_features, {@code N} = out_features, {@code G} = groups). This is the
 * one list every reader and writer of the layout uses.
 */
public enum GptqPart {
    /** int32 {@code [K/8, N]}: eight 4-bit codes per word. */
    QWEIGHT("qweight", DType.I32),
    /** int32 {@code [G, N/8]}: eight 4-bit zero points per word. */
    QZEROS("qzeros", DType.I32),
    /** fp16 {@code [G, N]}. */
    SCALES("scales", DType.F16),
    /** int32 {@code [K]}: the group of each input column. */
    G_IDX("g_idx", DType.I32);

    private final String suffix;
    private final DType dtype;

    GptqPart(String suffix, DType dtype) {
        this.suffix = suffix;
        this.dtype = dtype;
    }

    /** The tensor's name under a Linear's prefix (the Linear's name without {@code .weight}). */
    public String tensor(String linearPrefix) { return linearPrefix + "." + suffix; }

    /** The dtype zq writes; a reader accepts any floating-point dtype for {@link #SCALES}. */
    public DType dtype() { return dtype; }

    /** Whether the part holds packed integers (every part but the scales). */
    public boolean packed() { return dtype == DType.I32; }

    /** The shape the layout implies for a Linear of {@code in} × {@code out} in {@code groups} groups. */
    public long[] shape(int in, int out, int groups) {
        return switch (this) {
            case QWEIGHT -> new long[]{in / Int4Layout.PER_WORD, out};
            case QZEROS -> new long[]{groups, out / Int4Layout.PER_WORD};
            case SCALES -> new long[]{groups, out};
            case G_IDX -> new long[]{in};
        };
    }

    /** The part a tensor name ends with, or null when it is none of them. */
    public static GptqPart of(String tensorName) {
        for (GptqPart p : values()) if (tensorName.endsWith("." + p.suffix)) return p;
        return null;
    }
}
