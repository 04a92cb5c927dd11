package zq.runtime.linalg;

import java.nio.FloatBuffer;
import java.util.stream.LongStream;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A row-major fp32 matrix in native memory, or a rectangular view into one.
 *
 * <p>BLAS and LAPACK work in place on sub-matrices of large operands (the trailing columns of a
 * weight matrix, a panel of a Cholesky factor). Java arrays cannot be handed to native code without
 * copying them whole, so the operands that stay alive across many calls live here instead. A view
 * shares its parent's memory and has the parent's row stride ({@link #ld()}); closing a view does
 * nothing, closing the owner frees the memory.
 *
 * <p>Element and row copies go through a {@link FloatBuffer} over the owner's memory with absolute (index-based)
 * bulk gets and puts: no JNI call and no pointer object per row, which cost more than the copy itself for the
 * 128-float rows of the GPTQ column loop. Absolute accesses change no buffer state, so different threads may touch
 * different parts of one matrix concurrently. A matrix of more than 2³¹ − 1 elements, which no buffer can span,
 * copies through pointers instead.
 */
public final class OffHeapMatrix implements AutoCloseable {
    private final FloatPointer base;   // owner's pointer; element 0 of the owner
    private final FloatBuffer floats;   // the owner's elements, or null when there are more than a buffer can index
    private final boolean owner;
    private final long offset;          // element offset of this view's (0,0) in base
    private final int rows;
    private final int cols;
    private final int ld;
    private boolean closed;

    private OffHeapMatrix(FloatPointer base, FloatBuffer floats, boolean owner, long offset, int rows, int cols, int ld) {
        this.base = base;
        this.floats = floats;
        this.owner = owner;
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
        this.ld = ld;
    }

    /** A zero-filled rows×cols matrix. */
    public static OffHeapMatrix zeros(int rows, int cols) {
        OffHeapMatrix m = uninitialized(rows, cols);
        zero(m.base, m.size());
        return m;
    }

    /**
     * A rows×cols matrix whose contents are undefined (fresh or recycled memory as it is): for matrices every element
     * of which is written before it is read, such as gemm outputs with beta 0 and copies. Zeroing them anyway took
     * 2.5 % of the native-method samples of a 7B-wide quantize run (docs/runtime.md, "Fresh native memory").
     */
    public static OffHeapMatrix uninitialized(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix shape must be positive, got " + rows + "x" + cols);
        }
        long n = (long) rows * cols;
        FloatPointer p = NativeRecycler.SHARED.take(n);
        FloatBuffer floats = n <= Integer.MAX_VALUE ? new FloatPointer(p).position(0).limit(n).asBuffer() : null;
        return new OffHeapMatrix(p, floats, true, 0, rows, cols, cols);
    }

    /**
     * Fresh native memory costs a page fault and a page clear per page on first touch, and the zeroing is that first
     * touch: a fresh 214 MB matrix took 0.12 s zeroed on one core and 0.075 s in 8 MB slices on two (docs/runtime.md,
     * "Fresh native memory"). Large matrices are therefore zeroed in slices on every core.
     */
    static void zero(FloatPointer p, long n) {
        if (n < PARALLEL_ZERO_FLOATS) {
            p.zero();
            return;
        }
        long slices = (n + ZERO_SLICE_FLOATS - 1) / ZERO_SLICE_FLOATS;
        LongStream.range(0, slices).parallel().forEach(s -> {
            long from = s * ZERO_SLICE_FLOATS;
            new FloatPointer(p).position(from).limit(Math.min(n, from + ZERO_SLICE_FLOATS)).zero();
        });
    }

    /** 16 MB: below this one memset is quicker than handing slices to other threads. */
    private static final long PARALLEL_ZERO_FLOATS = 1L << 22;
    /** 8 MB per slice. */
    private static final long ZERO_SLICE_FLOATS = 1L << 21;

    /** A native copy of a row-major rows×cols array. */
    public static OffHeapMatrix copyOf(float[] data, int rows, int cols) {
        if ((long) rows * cols != data.length) {
            throw new IllegalArgumentException("array has " + data.length + " elements, expected " + rows + "x" + cols);
        }
        OffHeapMatrix m = uninitialized(rows, cols);
        m.at(0, 0).put(data, 0, data.length);
        return m;
    }

    public int rows() { return rows; }

    public int cols() { return cols; }

    /** Row stride in elements (the leading dimension in BLAS terms). */
    public int ld() { return ld; }

    /** The sub-matrix [r0, r0+nRows) × [c0, c0+nCols), sharing memory. */
    public OffHeapMatrix view(int r0, int c0, int nRows, int nCols) {
        if (r0 < 0 || c0 < 0 || nRows <= 0 || nCols <= 0 || r0 + nRows > rows || c0 + nCols > cols) {
            throw new IndexOutOfBoundsException("view [" + r0 + "+" + nRows + ", " + c0 + "+" + nCols
                    + "] outside a " + rows + "x" + cols + " matrix");
        }
        return new OffHeapMatrix(base, floats, false, offset + (long) r0 * ld + c0, nRows, nCols, ld);
    }

    public float get(int r, int c) {
        checkIndex(r, c, 1);
        long i = offset + (long) r * ld + c;
        return floats != null ? floats.get((int) i) : base.get(i);
    }

    public void set(int r, int c, float v) {
        checkIndex(r, c, 1);
        long i = offset + (long) r * ld + c;
        if (floats != null) floats.put((int) i, v);
        else base.put(i, v);
    }

    /** Copies {@code len} elements of row r starting at column c0 into dst[dstOff...]. */
    public void readRow(int r, int c0, float[] dst, int dstOff, int len) {
        checkIndex(r, c0, len);
        copyOut(r, c0, dst, dstOff, len);
    }

    /** Copies src[srcOff...srcOff+len) into row r starting at column c0. */
    public void writeRow(int r, int c0, float[] src, int srcOff, int len) {
        checkIndex(r, c0, len);
        copyIn(r, c0, src, srcOff, len);
    }

    private void copyOut(int r, int c0, float[] dst, int dstOff, int len) {
        if (floats != null) floats.get((int) (offset + (long) r * ld + c0), dst, dstOff, len);
        else at(r, c0).get(dst, dstOff, len);
    }

    private void copyIn(int r, int c0, float[] src, int srcOff, int len) {
        if (floats != null) floats.put((int) (offset + (long) r * ld + c0), src, srcOff, len);
        else at(r, c0).put(src, srcOff, len);
    }

    /** Copies a row-major rows×cols array into this matrix (or view). */
    public void write(float[] src) {
        if ((long) rows * cols != src.length) {
            throw new IllegalArgumentException("array has " + src.length + " elements, expected " + rows + "x" + cols);
        }
        write(src, 0);
    }

    /** Copies the rows·cols values of {@code src} from {@code srcOff} on, row-major, into this matrix (or view). */
    public void write(float[] src, int srcOff) {
        checkSpan(src.length, srcOff);
        if (ld == cols) {
            copyIn(0, 0, src, srcOff, rows * cols);
        } else {
            for (int r = 0; r < rows; r++) copyIn(r, 0, src, srcOff + r * cols, cols);
        }
    }

    /** Copies this matrix (or view) row-major into {@code dst} from {@code dstOff} on (rows·cols values). */
    public void read(float[] dst, int dstOff) {
        checkSpan(dst.length, dstOff);
        if (ld == cols) {
            copyOut(0, 0, dst, dstOff, rows * cols);
        } else {
            for (int r = 0; r < rows; r++) copyOut(r, 0, dst, dstOff + r * cols, cols);
        }
    }

    /** A row-major Java copy of this matrix (or view). */
    public float[] toArray() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        read(out, 0);
        return out;
    }

    /**
     * The first rows·cols elements of this matrix's memory seen as a row-major rows×cols matrix: one
     * allocation reused for operands whose shapes change from call to call. Only an owner (not a view)
     * can be reshaped; the result is a view that shares its memory.
     */
    public OffHeapMatrix reshape(int rows, int cols) {
        if (!owner) throw new IllegalStateException("only a matrix that owns its memory can be reshaped, not a view");
        if (rows <= 0 || cols <= 0 || (long) rows * cols > (long) this.rows * this.cols) {
            throw new IllegalArgumentException("cannot reshape " + this.rows + "x" + this.cols + " (" + (long) this.rows * this.cols
                    + " elements) to " + rows + "x" + cols);
        }
        return new OffHeapMatrix(base, floats, false, 0, rows, cols, cols);
    }

    /** Elements (rows·cols) this matrix holds. */
    public long size() { return (long) rows * cols; }

    /** A pointer positioned at element (r, c); BLAS and LAPACK calls take it with {@link #ld()}. */
    FloatPointer at(int r, int c) {
        return new FloatPointer(base).position(offset + (long) r * ld + c);
    }

    private void checkSpan(int arrayLength, int offset) {
        if (offset < 0 || offset > arrayLength - (long) rows * cols) {
            throw new IndexOutOfBoundsException(rows + "x" + cols + " values at offset " + offset + " do not fit an array of " + arrayLength);
        }
    }

    private void checkIndex(int r, int c, int len) {
        if (r < 0 || r >= rows || c < 0 || len < 0 || c + len > cols) {
            throw new IndexOutOfBoundsException("row " + r + " columns [" + c + ", " + (c + len)
                    + ") outside a " + rows + "x" + cols + " matrix");
        }
    }

    /**
     * Frees the memory (an owner; a view does nothing). Large buffers go back to {@link NativeRecycler} for the next
     * matrix of the same size, so a second close must not hand the same memory out twice.
     */
    @Override
    public void close() {
        if (!owner || closed) return;
        closed = true;
        NativeRecycler.SHARED.give(base);
    }

    /**
     * Frees the large buffers that closed matrices left for reuse: call it when a phase that repeats its shapes is over
     * (the quantize layer loop), so that the memory goes back to the system.
     */
    public static void releaseRecycled() {
        NativeRecycler.SHARED.releaseKept();
    }
}
