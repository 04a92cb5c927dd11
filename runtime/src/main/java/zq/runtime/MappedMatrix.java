package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.SafetensorsFile;
import zq.formats.TensorInfo;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A dense 2-D BF16, F16 or F32 tensor used in place in its memory-mapped safetensors file: each row is
 * decoded while it is multiplied, so a matrix-vector product streams the file's bytes once (the page cache
 * keeps them after the first token). Tensors over one mapping's limit are mapped in bands of whole rows.
 */
public final class MappedMatrix implements MatVec {
    /** Rows per task: enough work per task that splitting costs nothing, enough tasks for every core. */
    private static final int ROWS_PER_TASK = 64;
    private static final long BAND_BYTES = 1L << 29;

    private final String name;
    private final DType dtype;
    private final int rows, cols, rowsPerBand;
    private final List<ByteBuffer> bands;
    private boolean vectorized = VectorSupport.AVAILABLE;

    private MappedMatrix(String name, DType dtype, int rows, int cols, int rowsPerBand, List<ByteBuffer> bands) {
        this.name = name;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.rowsPerBand = rowsPerBand;
        this.bands = bands;
    }

    public static MappedMatrix of(Checkpoint checkpoint, String tensor) {
        TensorInfo t = checkpoint.info(tensor);
        SafetensorsFile file = checkpoint.fileOf(tensor);
        if (t.rank() != 2) throw new CheckpointException(file.path() + ": tensor '" + tensor + "' has shape " + t.shapeString() + ", expected 2-D");
        DType d = t.dtype();
        if (d != DType.BF16 && d != DType.F16 && d != DType.F32) {
            throw new CheckpointException(file.path() + ": tensor '" + tensor + "' is " + d + "; decoding reads BF16, F16 or F32 weights");
        }
        int rows = Math.toIntExact(t.shape()[0]), cols = Math.toIntExact(t.shape()[1]);
        long rowBytes = (long) cols * d.bytes();
        int perBand = (int) Math.max(1, Math.min(rows, BAND_BYTES / rowBytes));
        List<ByteBuffer> bands = new ArrayList<>();
        for (int r0 = 0; r0 < rows; r0 += perBand) {
            bands.add(file.map(t, r0 * rowBytes, Math.min(perBand, rows - r0) * rowBytes));
        }
        return new MappedMatrix(checkpoint.dir() + ": " + tensor, d, rows, cols, perBand, bands);
    }

    /** Uses the scalar loops even where the Vector API is available (to test both). */
    MappedMatrix scalar() {
        vectorized = false;
        return this;
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    @Override public long storedBytes() { return (long) rows * cols * dtype.bytes(); }

    /** Decodes row {@code r} into {@code dst} (for the embedding lookup and tests). */
    public void row(int r, float[] dst) {
        ByteBuffer b = bands.get(r / rowsPerBand);
        int off = (r % rowsPerBand) * cols * dtype.bytes();
        for (int c = 0; c < cols; c++) dst[c] = element(b, off, c);
    }

    @Override public void multiply(float[] x, float[] y) {
        if (x.length != cols || y.length != rows) {
            throw new IllegalArgumentException(name + ": product of a [" + rows + " × " + cols + "] matrix with " + x.length
                    + " values into " + y.length);
        }
        boolean pairs = vectorized && dtype != DType.F32;
        float[] xEven = pairs ? new float[(cols + 1) / 2] : null, xOdd = pairs ? new float[cols / 2] : null;
        if (pairs) for (int c = 0; c < cols; c++) (c % 2 == 0 ? xEven : xOdd)[c / 2] = x[c];
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        IntStream.range(0, tasks).parallel().forEach(task -> {
            for (int r = task * ROWS_PER_TASK, end = Math.min(rows, r + ROWS_PER_TASK); r < end; r++) y[r] = dot(r, x, xEven, xOdd);
        });
    }

    private float dot(int r, float[] x, float[] xEven, float[] xOdd) {
        ByteBuffer b = bands.get(r / rowsPerBand);
        int off = (r % rowsPerBand) * cols * dtype.bytes();
        if (vectorized && dtype == DType.BF16) return VectorKernels.dotBf16(b, off, xEven, xOdd, cols);
        if (vectorized && dtype == DType.F16) return VectorKernels.dotF16(b, off, xEven, xOdd, cols);
        if (vectorized && dtype == DType.F32) return VectorKernels.dotF32(b, off, x, cols);
        return switch (dtype) {
            case BF16 -> dotBf16(b, off, x);
            case F32 -> dotF32(b, off, x);
            default -> dotGeneric(b, off, x);
        };
    }

    /** Four bf16 values per 8-byte read; a bf16 is the top half of an fp32, so widening is a shift. */
    private float dotBf16(ByteBuffer b, int off, float[] x) {
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            long w = b.getLong(off + 2 * c);
            a0 += Float.intBitsToFloat((int) w << 16) * x[c];
            a1 += Float.intBitsToFloat((int) (w >>> 16) << 16) * x[c + 1];
            a2 += Float.intBitsToFloat((int) (w >>> 32) << 16) * x[c + 2];
            a3 += Float.intBitsToFloat((int) (w >>> 48) << 16) * x[c + 3];
        }
        for (; c < cols; c++) a0 += element(b, off, c) * x[c];
        return (a0 + a1) + (a2 + a3);
    }

    private float dotF32(ByteBuffer b, int off, float[] x) {
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            a0 += b.getFloat(off + 4 * c) * x[c];
            a1 += b.getFloat(off + 4 * c + 4) * x[c + 1];
            a2 += b.getFloat(off + 4 * c + 8) * x[c + 2];
            a3 += b.getFloat(off + 4 * c + 12) * x[c + 3];
        }
        for (; c < cols; c++) a0 += b.getFloat(off + 4 * c) * x[c];
        return (a0 + a1) + (a2 + a3);
    }

    private float dotGeneric(ByteBuffer b, int off, float[] x) {
        float a0 = 0, a1 = 0;
        int c = 0;
        for (; c + 2 <= cols; c += 2) {
            a0 += element(b, off, c) * x[c];
            a1 += element(b, off, c + 1) * x[c + 1];
        }
        for (; c < cols; c++) a0 += element(b, off, c) * x[c];
        return a0 + a1;
    }

    private float element(ByteBuffer b, int off, int c) {
        return switch (dtype) {
            case BF16 -> HalfFloats.bf16ToFloat(b.getShort(off + 2 * c));
            case F16 -> HalfFloats.f16ToFloat(b.getShort(off + 2 * c));
            default -> b.getFloat(off + 4 * c);
        };
    }
}
