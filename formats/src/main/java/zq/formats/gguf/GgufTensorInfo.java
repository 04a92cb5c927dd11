package zq.formats.gguf;

import java.util.Arrays;

/**
 * One entry of a GGUF tensor table. {@code dims} are in ggml order, innermost first: a PyTorch weight
 * {@code [out, in]} is {@code [in, out]}. {@code offset} counts from the start of the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] dims, long offset) {

    public long elements() {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Values per row (the innermost dimension). */
    public long rowLength() { return dims[0]; }

    public long rows() { return elements() / dims[0]; }

    public long byteSize() { return type.byteSize(elements(), dims[0]); }

    public String dimsString() { return Arrays.toString(dims); }

    /** A planned entry (offset to be assigned by the writer). */
    public static GgufTensorInfo planned(String name, GgmlType type, long... dims) { return new GgufTensorInfo(name, type, dims, -1); }
}
