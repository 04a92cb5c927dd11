package zq.formats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-worked bit patterns for binary16 and bfloat16 (IEEE 754-2008 tables). */
class HalfFloatsTest {

    private static int f16(float f) { return HalfFloats.floatToF16(f) & 0xFFFF; }

    private static int bf16(float f) { return HalfFloats.floatToBf16(f) & 0xFFFF; }

    @Test void f16NormalValues() {
        assertEquals(0x3C00, f16(1.0f));
        assertEquals(0xC000, f16(-2.0f));
        assertEquals(0x7BFF, f16(65504f));          // largest finite half
        assertEquals(0x3555, f16(1f / 3));          // 0.333251953125, rounded down
        assertEquals(0x0000, f16(0f));
        assertEquals(0x8000, f16(-0f));
    }

    @Test void f16RoundsHalfToEven() {
        // 1 + 2^-11 lies exactly between 1.0 (0x3C00, even) and 1+2^-10 (0x3C01): ties to even -> 0x3C00
        assertEquals(0x3C00, f16(1f + 0x1p-11f));
        // 1 + 3*2^-11 lies between 0x3C01 (odd) and 0x3C02 (even): -> 0x3C02
        assertEquals(0x3C02, f16(1f + 3 * 0x1p-11f));
        // just above the tie rounds up
        assertEquals(0x3C01, f16(Math.nextUp(1f + 0x1p-11f)));
    }

    @Test void f16OverflowAndSpecials() {
        assertEquals(0x7BFF, f16(65519.996f));     // below the rounding boundary 65520
        assertEquals(0x7C00, f16(65520f));         // ties to even -> infinity
        assertEquals(0x7C00, f16(1e6f));
        assertEquals(0xFC00, f16(Float.NEGATIVE_INFINITY));
        assertEquals(0x7C00, f16(Float.POSITIVE_INFINITY) & 0x7C00);
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN))));
        assertTrue(HalfFloats.overflowsF16(70000f));
        assertTrue(!HalfFloats.overflowsF16(65504f));
    }

    @Test void f16Subnormals() {
        assertEquals(0x0001, f16(0x1p-24f));       // smallest subnormal
        assertEquals(0x0000, f16(0x1p-25f));       // tie between 0 and 2^-24 -> even (0)
        assertEquals(0x0001, f16(0x1.8p-25f));     // 0.75 * 2^-24 rounds up
        assertEquals(0x0003, f16(0x1.8p-23f));     // exactly 3 * 2^-24
        assertEquals(0x0002, f16(0x1.4p-23f));     // 2.5 * 2^-24: tie -> even (2)
        assertEquals(0x0004, f16(0x1.cp-23f));     // 3.5 * 2^-24: tie -> even (4)
        assertEquals(0x03FF, f16(0x3FFp-24f));     // largest subnormal
        assertEquals(0x0400, f16(0x1p-14f));       // smallest normal
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001));
        assertEquals(0x3FFp-24f, HalfFloats.f16ToFloat((short) 0x03FF));
    }

    @Test void f16DecodeEveryPatternRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.f16ToFloat((short) h);
            if (Float.isNaN(f)) continue;
            assertEquals(h, f16(f), "pattern " + Integer.toHexString(h));
        }
    }

    @Test void bf16() {
        assertEquals(0x3F80, bf16(1.0f));
        assertEquals(0x4049, bf16(3.140625f));
        assertEquals(70144f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(70000f)));   // bf16 keeps 7 mantissa bits: steps of 2^(16-7) = 512 near 2^16, 70000/512 = 136.72 rounds to 137, 137·512 = 70144
        assertEquals(-65536f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(-65504f)));
        assertEquals(1.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1.00390625f)));  // tie -> even
        assertEquals(0x3F82, bf16(Float.intBitsToFloat(0x3F818000)));                    // tie, odd below -> up
        assertEquals(0x7F80, bf16(Float.MAX_VALUE));                                      // overflow -> inf
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
        assertEquals(0x0001, bf16(Float.intBitsToFloat(0x00010000)));                     // subnormal kept
    }
}
