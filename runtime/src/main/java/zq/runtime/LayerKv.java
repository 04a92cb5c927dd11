package zq.runtime;

import zq.runtime.linalg.OffHeapMatrix;

/**
 * The keys and values of one decoder layer for one sequence, in native fp32: per KV head one
 * position-major {@code [capacity × head_dim]} matrix for K and one for V, so that the keys a query
 * block can see are one contiguous view for sgemm. Positions are appended; capacity grows by doubling
 * (amortised O(T) copying). Keys are stored after RoPE, so a cached key is never rotated again.
 * Close it to free the memory. Not thread-safe.
 */
public final class LayerKv implements AutoCloseable {
    private static final int MIN_CAPACITY = 64;

    private final int kvHeads, headDim;
    private final OffHeapMatrix[] keys, values;
    private int length, capacity, ropeLength;

    public LayerKv(int kvHeads, int headDim) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new OffHeapMatrix[kvHeads];
        this.values = new OffHeapMatrix[kvHeads];
    }

    /** Positions held. */
    public int length() { return length; }

    /** Positions the memory holds without growing. */
    public int capacity() { return capacity; }

    /** The sequence length RoPE tables are built for (it matters for dynamic NTK only). */
    public int ropeLength() { return ropeLength; }

    /** Native bytes held (K and V). */
    public long bytes() { return 2L * kvHeads * capacity * headDim * Float.BYTES; }

    /** Empties the cache for a new sequence of (at most, as far as RoPE is concerned) {@code ropeLength} positions. */
    public void reset(int ropeLength) {
        this.length = 0;
        this.ropeLength = ropeLength;
    }

    /** Forgets every position from {@code newLength} on (a chat turn that rewrites the end of the history). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    /** Grows the memory, keeping its contents, so that {@code positions} fit. */
    public void reserve(int positions) {
        if (positions <= capacity) return;
        int grown = (int) Math.min(Integer.MAX_VALUE - 8, Math.max((long) positions, Math.max(MIN_CAPACITY, 2L * capacity)));
        for (int g = 0; g < kvHeads; g++) {
            keys[g] = grow(keys[g], grown);
            values[g] = grow(values[g], grown);
        }
        capacity = grown;
    }

    private OffHeapMatrix grow(OffHeapMatrix old, int rows) {
        OffHeapMatrix m = OffHeapMatrix.zeros(rows, headDim);
        if (old != null) {
            if (length > 0) m.view(0, 0, length, headDim).write(old.view(0, 0, length, headDim).toArray());
            old.close();
        }
        return m;
    }

    /**
     * Appends {@code n} positions: rows {@code row0..row0+n-1} of k and v, each {@code kv_heads·head_dim}
     * wide (heads side by side, as the projection writes them).
     */
    public void append(float[] k, float[] v, int row0, int n) {
        reserve(length + n);
        int width = kvHeads * headDim;
        for (int t = 0; t < n; t++) {
            int src = (row0 + t) * width;
            for (int g = 0; g < kvHeads; g++) {
                keys[g].writeRow(length + t, 0, k, src + g * headDim, headDim);
                values[g].writeRow(length + t, 0, v, src + g * headDim, headDim);
            }
        }
        length += n;
    }

    /** Keys of KV head {@code g} at positions {@code [0, end)}. */
    OffHeapMatrix keys(int g, int end) { return keys[g].view(0, 0, end, headDim); }

    /** Values of KV head {@code g} at positions {@code [0, end)}. */
    OffHeapMatrix values(int g, int end) { return values[g].view(0, 0, end, headDim); }

    @Override public void close() {
        for (int g = 0; g < kvHeads; g++) {
            if (keys[g] != null) keys[g].close();
            if (values[g] != null) values[g].close();
            keys[g] = values[g] = null;
        }
        capacity = length = 0;
    }
}
