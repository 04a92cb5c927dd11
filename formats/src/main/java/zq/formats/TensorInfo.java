package zq.formats;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors header. Offsets are relative to the start of the data buffer,
 * as in the file; {@code file} is the shard that holds it.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end, java.nio.file.Path file) {

    public long numel() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() { return end - begin; }

    public int rank() { return shape.length; }

    /** Shape as text, e.g. [4096, 4096]. */
    public String shapeString() { return Arrays.toString(shape); }

    public boolean hasShape(long... expected) { return Arrays.equals(shape, expected); }
}
