package zq.convert.gguf;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.FiniteValues;
import zq.formats.HalfFloats;
import zq.formats.TensorData;
import zq.formats.gguf.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.stream.IntStream;

/**
 * A floating-point checkpoint tensor written as a GGUF type, row by row in the order {@link RowOrder} gives,
 * a chunk of rows at a time: memory stays at one chunk whatever the tensor's size. 1-D tensors (norms,
 * biases) are small and go through {@link #vector}.
 */
final class DenseRows implements TensorData {
    /** Values read and encoded at once. */
    private static final int CHUNK_VALUES = 1 << 20;

    private final Checkpoint checkpoint;
    private final String name;
    private final int[] rows;
    private final int cols;
    private final GgmlType type;

    DenseRows(Checkpoint checkpoint, String name, int[] rows, int cols, GgmlType type) {
        this.checkpoint = checkpoint;
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.type = type;
    }

    @Override public void writeTo(WritableByteChannel out) throws IOException {
        int chunk = Math.max(1, CHUNK_VALUES / cols);
        float[] picked = new float[Math.multiplyExact(Math.min(chunk, rows.length), cols)];
        ByteBuffer buf = ByteBuffer.allocate((int) type.byteSize(picked.length, cols)).order(ByteOrder.LITTLE_ENDIAN);
        for (int r0 = 0; r0 < rows.length; r0 += chunk) {
            int n = Math.min(chunk, rows.length - r0);
            int lo = Integer.MAX_VALUE, hi = -1;
            for (int i = r0; i < r0 + n; i++) {
                lo = Math.min(lo, rows[i]);
                hi = Math.max(hi, rows[i]);
            }
            float[] src = checkpoint.rows(name, lo, hi - lo + 1);
            for (int i = 0; i < n; i++) System.arraycopy(src, (rows[r0 + i] - lo) * cols, picked, i * cols, cols);
            encode(checkpoint, name, picked, n, cols, type, buf);
            TensorData.writeAll(out, buf.flip());
        }
    }

    /**
     * Checks that the values of {@code rows} rows are finite and fit the type's fp16 fields, then encodes them into
     * {@code buf} (cleared first), the rows in parallel: each row is a whole number of blocks with its own bytes.
     */
    static void encode(Checkpoint checkpoint, String name, float[] v, int rows, int cols, GgmlType type, ByteBuffer buf) {
        int rowBytes = (int) type.byteSize(cols, cols);
        IntStream.range(0, rows).parallel().forEach(r -> {
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new CheckpointException(checkpoint.dir() + ": tensor '" + name + "' has a non-finite value (" + v[i] + ")");
                }
                // every other type stores values or block scales and minima in fp16
                if (type != GgmlType.F32 && type != GgmlType.BF16 && HalfFloats.overflowsF16(v[i])) {
                    throw new CheckpointException(checkpoint.dir() + ": tensor '" + name + "' has " + v[i] + ", beyond fp16's range, so it "
                            + "cannot be written as " + type + "; use --dtype f32 or bf16");
                }
            }
            type.encode(v, r * cols, cols, buf.slice(r * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN));
        });
        buf.clear().position(rows * rowBytes);
    }

    /** A 1-D tensor (norm or bias) as F32, elements taken in {@code order}. */
    static TensorData vector(Checkpoint checkpoint, String name, int[] order) {
        return out -> {
            float[] all = checkpoint.floats(name);
            float[] v = new float[order.length];
            for (int i = 0; i < order.length; i++) v[i] = all[order[i]];
            ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            GgmlType.F32.encode(v, 0, v.length, buf);
            TensorData.writeAll(out, buf.flip());
        };
    }

    /** A float vector computed by the exporter (llama3 RoPE factors) as F32. */
    static TensorData computed(float[] v) {
        return out -> {
            ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            GgmlType.F32.encode(v, 0, v.length, buf);
            TensorData.writeAll(out, buf.flip());
        };
    }
}
