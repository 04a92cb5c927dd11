package zq.formats.gguf;

/** Constants of the GGUF container (ggml/include/gguf.h, docs/gguf.md in this tree). */
public final class Gguf {
    private Gguf() {}

    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int VERSION = 3;
    /** Alignment of the data section and of every tensor when general.alignment is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;

    static long align(long offset, long alignment) { return (offset + alignment - 1) / alignment * alignment; }
}
