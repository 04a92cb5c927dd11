package zq.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FloatExp against Math.exp in float64 rounded to fp32, over every region of the fp32 line. */
class FloatExpTest {

    /** Distance from the float64 exponential in units of the fp32 spacing at the correctly rounded result. */
    private static double ulps(float x) {
        double exact = Math.exp(x);
        float rounded = (float) exact;
        double ulp = Math.ulp(rounded == 0 ? Float.MIN_VALUE : rounded);
        return Math.abs(FloatExp.exp(x) - exact) / ulp;
    }

    @Test void withinOneUlpAcrossTheWholeRange() {
        double worst = 0;
        float worstAt = 0;
        // every 4099th fp32 bit pattern of both signs, subnormal arguments included, up to the overflow and underflow bounds
        for (int sign = 0; sign < 2; sign++) {
            for (long bits = 0; bits < 0x7F800000L; bits += 4099) {
                float x = Float.intBitsToFloat((int) bits | (sign << 31));
                if (x > 88.72f || x < -103.9f) continue;
                double u = ulps(x);
                if (u > worst) {
                    worst = u;
                    worstAt = x;
                }
            }
        }
        assertTrue(worst <= 1.0, "worst error " + worst + " ulp at x = " + worstAt);
    }

    @Test void subnormalResultsRoundOnce() {
        // e^x between 2^-149 and 2^-126: the result is subnormal
        for (float x = -103.9f; x < -87.4f; x += 0.01f) assertTrue(ulps(x) <= 1.0, "x = " + x);
        assertEquals(0f, FloatExp.exp(-104f));
        assertTrue(FloatExp.exp(-103.2f) > 0f, "e^-103.2 ≈ 1.8e-45 is the smallest subnormal or more");
    }

    @Test void exactAndSpecialValues() {
        assertEquals(1f, FloatExp.exp(0f));
        assertEquals(1f, FloatExp.exp(-0f));
        assertEquals(1f, FloatExp.exp(Float.MIN_VALUE));
        assertEquals((float) Math.E, FloatExp.exp(1f), Math.ulp((float) Math.E));
        assertEquals(Float.POSITIVE_INFINITY, FloatExp.exp(88.73f));
        assertEquals(Float.POSITIVE_INFINITY, FloatExp.exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, FloatExp.exp(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(FloatExp.exp(Float.NaN)));
        // the largest argument with a finite result: e^88.7228317 ≈ 3.40279e38 < Float.MAX_VALUE
        float last = Math.nextDown(88.72283935546875f);
        assertTrue(Float.isFinite(FloatExp.exp(last)) && ulps(last) <= 1.0, "e^" + last + " = " + FloatExp.exp(last));
    }
}
