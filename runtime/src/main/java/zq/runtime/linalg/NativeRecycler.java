package zq.runtime.linalg;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Keeps large native allocations after their matrix is closed and hands them to the next matrix of the same size.
 *
 * <p>GPTQ allocates and frees the same shapes in every layer (Hessians, factors, weight copies, gemm buffers): about
 * 4.7 GB per 7B-wide layer. Fresh memory costs the kernel a page fault and a page clear on first touch, which took
 * several core-seconds per layer (docs/runtime.md, "Fresh native memory"). Reused memory costs one memset.
 *
 * <p>Kept memory never makes the process hold more native memory than it once had in use at the same time: before a
 * fresh allocation, kept buffers are freed (smallest first) until in-use plus kept plus the new one is at most the
 * larger of that high-water mark and in-use plus the new one. Only buffers of at least {@link #MIN_FLOATS} floats are
 * kept; smaller ones are freed at once. Only exact sizes are reused, so no memory is wasted by a loose fit.
 */
final class NativeRecycler {
    /** 16 MB: smaller buffers fault in quickly and would only clutter the list. */
    static final long MIN_FLOATS = 1L << 22;

    /** The one every {@link OffHeapMatrix} uses. */
    static final NativeRecycler SHARED = new NativeRecycler(MIN_FLOATS);

    private final long minFloats;
    private final List<FloatPointer> kept = new ArrayList<>(); // by increasing capacity
    private long keptFloats;
    private long inUseFloats;
    private long highWaterFloats;

    /** @param minFloats buffers smaller than this are freed at once, not kept */
    NativeRecycler(long minFloats) {
        this.minFloats = minFloats;
    }

    /** A buffer of exactly {@code n} floats, recycled or fresh; its contents are undefined. */
    synchronized FloatPointer take(long n) {
        if (n < minFloats) return new FloatPointer(n);
        for (int i = 0; i < kept.size(); i++) {
            if (kept.get(i).capacity() == n) {
                FloatPointer p = kept.remove(i);
                keptFloats -= n;
                inUse(n);
                return p;
            }
        }
        long limit = Math.max(highWaterFloats, inUseFloats + n);
        while (!kept.isEmpty() && inUseFloats + keptFloats + n > limit) {
            FloatPointer p = kept.remove(0);
            keptFloats -= p.capacity();
            p.close();
        }
        FloatPointer p = new FloatPointer(n);
        inUse(n);
        return p;
    }

    /** Takes back a buffer from {@link #take}; the caller must not use it again. */
    synchronized void give(FloatPointer p) {
        long n = p.capacity();
        if (n < minFloats) {
            p.close();
            return;
        }
        inUseFloats -= n;
        int at = 0;
        while (at < kept.size() && kept.get(at).capacity() < n) at++;
        kept.add(at, p);
        keptFloats += n;
    }

    /** Frees every kept buffer (the next large matrices fault in afresh). */
    synchronized void releaseKept() {
        kept.forEach(FloatPointer::close);
        kept.clear();
        keptFloats = 0;
    }

    /** Floats held in kept buffers now, for tests. */
    synchronized long keptFloats() { return keptFloats; }

    private void inUse(long n) {
        inUseFloats += n;
        highWaterFloats = Math.max(highWaterFloats, inUseFloats);
    }
}
