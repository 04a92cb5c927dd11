package zq.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * The bytes of one tensor, produced on demand while a file is written, so a writer never needs
 * all tensors (or even one whole tensor) in memory at once.
 */
@FunctionalInterface
public interface TensorData {
    /** Writes exactly the tensor's byte size to {@code out}, little-endian; never closes {@code out}. */
    void writeTo(WritableByteChannel out) throws IOException;

    int CHUNK = 1 << 20;

    /** fp32 values encoded as {@code dtype} (BF16/F16 round to nearest even). */
    static TensorData floats(float[] values, DType dtype) {
        return out -> {
            int es = dtype.bytes();
            ByteBuffer b = ByteBuffer.allocate(CHUNK * es).order(ByteOrder.LITTLE_ENDIAN);
            for (int start = 0; start < values.length; start += CHUNK) {
                int n = Math.min(CHUNK, values.length - start);
                b.clear();
                FloatEncoder.encode(values, start, n, dtype, b);
                b.flip();
                writeAll(out, b);
            }
        };
    }

    static TensorData ints(int[] values) {
        return out -> {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(values);
            writeAll(out, b);
        };
    }

    static TensorData shorts(short[] values) {
        return out -> {
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            b.asShortBuffer().put(values);
            writeAll(out, b);
        };
    }

    /** Raw bytes, written as they are. */
    static TensorData bytes(ByteBuffer raw) {
        return out -> writeAll(out, raw.duplicate());
    }

    /** A tensor of another safetensors file, copied byte for byte without decoding. */
    static TensorData copyOf(SafetensorsFile file, TensorInfo t) {
        return out -> file.copyBytes(t, out);
    }

    static void writeAll(WritableByteChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) out.write(b);
    }
}
