package zq.formats.gptq;

/**
 * How {@code qzeros} stores a zero point, as {@code quantization_config.checkpoint_format} announces it: AutoGPTQ's
 * "gptq" (v1) stores zero − 1, GPTQModel's "gptq_v2" the zero itself (docs/gptq.md, "Zero points").
 */
public enum ZeroFormat {
    GPTQ_V1(1, "gptq"),
    GPTQ_V2(0, "gptq_v2");

    private final int offset;
    private final String checkpointFormat;

    ZeroFormat(int offset, String checkpointFormat) {
        this.offset = offset;
        this.checkpointFormat = checkpointFormat;
    }

    /** What is subtracted from a zero point before it is stored, and added back when it is read. */
    public int offset() { return offset; }

    /** The {@code checkpoint_format} value that announces this convention to loaders. */
    public String checkpointFormat() { return checkpointFormat; }

    /** The format a {@code checkpoint_format} value names, or null when zq does not read it. */
    public static ZeroFormat ofCheckpointFormat(String checkpointFormat) {
        for (ZeroFormat f : values()) if (f.checkpointFormat.equals(checkpointFormat)) return f;
        return null;
    }
}
