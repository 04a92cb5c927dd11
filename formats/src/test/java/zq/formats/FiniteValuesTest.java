package zq.formats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FiniteValuesTest {
    @Test void findsTheFirstNonFiniteValueWhicheverPieceHoldsIt() {
        float[] v = new float[3 * (1 << 20) + 17]; // three whole pieces of 2^20 and a partial one
        assertEquals(-1, FiniteValues.firstNonFinite(v));
        v[v.length - 1] = Float.NEGATIVE_INFINITY;
        assertEquals(v.length - 1, FiniteValues.firstNonFinite(v));
        v[2 * (1 << 20) + 5] = Float.NaN;
        assertEquals(2 * (1 << 20) + 5, FiniteValues.firstNonFinite(v));
        v[(1 << 20) - 1] = Float.POSITIVE_INFINITY; // the last value of the first piece
        assertEquals((1 << 20) - 1, FiniteValues.firstNonFinite(v));
        v[0] = Float.NaN;
        assertEquals(0, FiniteValues.firstNonFinite(v));
    }

    @Test void extremeFiniteValuesPass() {
        assertEquals(-1, FiniteValues.firstNonFinite(new float[]{Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0f}));
        assertEquals(-1, FiniteValues.firstNonFinite(new float[0]));
    }
}
