package zq.runtime.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

class NativeRecyclerTest {

    @Test
    void theSameSizeGetsTheSameMemoryAndOtherSizesDoNot() {
        NativeRecycler r = new NativeRecycler(10);
        FloatPointer a = r.take(100);
        long address = a.address();
        r.give(a);
        assertEquals(100, r.keptFloats());
        FloatPointer again = r.take(100);
        assertEquals(address, again.address(), "an exact size is reused");
        assertEquals(0, r.keptFloats());
        r.give(again);
        FloatPointer other = r.take(120);
        // kept 100 + new 120 would pass the high-water mark of 100 in use: the 100 is freed, not handed out. (Its
        // address proves nothing here: malloc may well return the freed block again.)
        assertEquals(120, other.capacity(), "a buffer of exactly the asked size");
        assertEquals(0, r.keptFloats(), "the kept buffer of another size was freed");
        r.give(other);
        r.releaseKept();
        assertEquals(0, r.keptFloats());
    }

    @Test
    void keptAndInUseMemoryNeverExceedTheHighWaterMark() {
        NativeRecycler r = new NativeRecycler(10);
        FloatPointer a = r.take(100);
        FloatPointer b = r.take(60); // 160 in use at once: the high-water mark
        r.give(a);
        r.give(b);
        assertEquals(160, r.keptFloats());
        // 160 kept + 50 new would be 210 > 160: the smallest kept buffer (60) goes, 100 + 50 fits
        FloatPointer c = r.take(50);
        assertEquals(100, r.keptFloats(), "only the smallest kept buffer is freed");
        FloatPointer d = r.take(100);
        assertEquals(0, r.keptFloats(), "the larger one is still there to be reused");
        // 150 in use; a fresh 200 is above the mark, so nothing may be kept beside it
        r.give(d);
        FloatPointer e = r.take(200);
        assertEquals(0, r.keptFloats());
        r.give(c);
        r.give(e);
        r.releaseKept();
    }

    @Test
    void smallBuffersAreFreedNotKept() {
        NativeRecycler r = new NativeRecycler(10);
        r.give(r.take(9));
        assertEquals(0, r.keptFloats());
    }

    @Test
    void aRecycledMatrixStartsAtZeroAndADoubleCloseHandsNothingOutTwice() {
        int rows = 1024;
        int cols = (int) (NativeRecycler.MIN_FLOATS / rows);
        float[] ones = new float[rows * cols];
        java.util.Arrays.fill(ones, 1f);
        OffHeapMatrix m = OffHeapMatrix.zeros(rows, cols);
        m.write(ones);
        long before = NativeRecycler.SHARED.keptFloats();
        m.close();
        m.close();
        assertEquals(before + (long) rows * cols, NativeRecycler.SHARED.keptFloats(), "kept once, not twice");
        try (OffHeapMatrix a = OffHeapMatrix.zeros(rows, cols); OffHeapMatrix b = OffHeapMatrix.zeros(rows, cols)) {
            assertEquals(before, NativeRecycler.SHARED.keptFloats(), "the closed matrix's memory was reused");
            for (float v : a.toArray()) if (v != 0f) throw new AssertionError("recycled memory was not zeroed: " + v);
            a.write(ones);
            for (float v : b.toArray()) if (v != 0f) throw new AssertionError("two live matrices share memory");
        }
        OffHeapMatrix.releaseRecycled();
    }
}
