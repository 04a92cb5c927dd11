package zq.formats.gguf;

/** The value types of GGUF metadata ({@code enum gguf_type} in ggml/include/gguf.h), with their ids and widths. */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id, bytes;

    GgufValueType(int id, int bytes) {
        this.id = id;
        this.bytes = bytes;
    }

    public int id() { return id; }

    /** Width of one value; −1 for strings and arrays. */
    public int bytes() { return bytes; }

    public static GgufValueType fromId(long id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
