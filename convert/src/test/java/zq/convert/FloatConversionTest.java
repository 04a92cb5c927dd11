package zq.convert;

import org.junit.jupiter.api.Test;
import zq.formats.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Element conversions against hand-worked IEEE 754 bit patterns. */
class FloatConversionTest {

    private record Out(long[] bits, long overflows) {}

    private static Out convertFloats(DType to, float... v) {
        ByteBuffer src = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) src.putFloat(f);
        return run(src.flip(), DType.F32, to, v.length);
    }

    private static Out convertDoubles(DType to, double... v) {
        ByteBuffer src = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) src.putDouble(d);
        return run(src.flip(), DType.F64, to, v.length);
    }

    private static Out convertHalves(DType from, DType to, int... bits) {
        ByteBuffer src = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int b : bits) src.putShort((short) b);
        return run(src.flip(), from, to, bits.length);
    }

    private static Out run(ByteBuffer src, DType from, DType to, int n) {
        ByteBuffer dst = ByteBuffer.allocate(to.bytes() * n).order(ByteOrder.LITTLE_ENDIAN);
        long overflows = FloatConversion.convert(src, from, dst, to, n);
        dst.flip();
        long[] bits = new long[n];
        for (int i = 0; i < n; i++) bits[i] = to.bytes() == 2 ? dst.getShort() & 0xFFFF : dst.getInt() & 0xFFFFFFFFL;
        return new Out(bits, overflows);
    }

    @Test void f32ToF16RoundsTiesToEvenAndCountsOverflow() {
        Out o = convertFloats(DType.F16,
                1f + 0x1p-11f,      // halfway between 0x3C00 (even) and 0x3C01 -> 0x3C00
                1f + 3 * 0x1p-11f,  // halfway between 0x3C01 and 0x3C02 (even) -> 0x3C02
                65504f,             // largest finite half 0x7BFF
                65520f,             // halfway between 65504 and 2^16: ties to even = infinity (overflow)
                -1e6f,              // overflow to -infinity
                0x1p-24f,           // smallest subnormal 0x0001
                0x1p-25f,           // halfway between 0 and 2^-24 -> 0
                0x1.4p-23f,         // 2.5 * 2^-24 -> tie -> 2 * 2^-24
                Float.POSITIVE_INFINITY); // already infinite: not an overflow
        assertEquals(0x3C00, o.bits[0]);
        assertEquals(0x3C02, o.bits[1]);
        assertEquals(0x7BFF, o.bits[2]);
        assertEquals(0x7C00, o.bits[3]);
        assertEquals(0xFC00, o.bits[4]);
        assertEquals(0x0001, o.bits[5]);
        assertEquals(0x0000, o.bits[6]);
        assertEquals(0x0002, o.bits[7]);
        assertEquals(0x7C00, o.bits[8]);
        assertEquals(2, o.overflows);
    }

    @Test void f32ToBf16RoundsTiesToEvenAndCountsOverflow() {
        Out o = convertFloats(DType.BF16,
                1f + 0x1p-8f,       // halfway between 0x3F80 (even) and 0x3F81 -> 0x3F80
                1f + 3 * 0x1p-8f,   // halfway between 0x3F81 and 0x3F82 (even) -> 0x3F82
                -2f,                // 0xC000
                Float.MAX_VALUE,    // 0x7F7FFFFF: above the largest bf16 0x7F7F plus half an ulp -> infinity
                Float.NaN);
        assertEquals(0x3F80, o.bits[0]);
        assertEquals(0x3F82, o.bits[1]);
        assertEquals(0xC000, o.bits[2]);
        assertEquals(0x7F80, o.bits[3]);
        assertEquals(0x7F80, o.bits[4] & 0x7F80);
        assertEquals(true, (o.bits[4] & 0x7F) != 0, "NaN stays NaN");
        assertEquals(1, o.overflows);
    }

    @Test void bf16ToF16() {
        Out o = convertHalves(DType.BF16, DType.F16,
                0x3F81,   // 1 + 2^-7, exact in f16: 0x3C00 + 2^-7 / 2^-10 = 0x3C08
                0x477F,   // 65280 = 1.9921875 * 2^15 -> exponent 30, mantissa 1016 -> 0x7BF8
                0x4780,   // 65536: overflow
                0x3580,   // 2^-20 (exponent 107): f16 subnormal 16 * 2^-24 = 0x0010
                0x3380);  // 2^-24: smallest f16 subnormal
        assertEquals(0x3C08, o.bits[0]);
        assertEquals(0x7BF8, o.bits[1]);
        assertEquals(0x7C00, o.bits[2]);
        assertEquals(0x0010, o.bits[3]);
        assertEquals(0x0001, o.bits[4]);
        assertEquals(1, o.overflows);
    }

    @Test void f16ToBf16AndF32() {
        Out b = convertHalves(DType.F16, DType.BF16,
                0x3C03,   // 1 + 3*2^-10: below the halfway point 1 + 2^-8 -> 0x3F80
                0x3C04,   // 1 + 2^-8: halfway, ties to even 0x3F80
                0x3C0C,   // 1 + 3*2^-8: halfway between 0x3F81 and 0x3F82 (even) -> 0x3F82
                0x0001);  // 2^-24 = exponent 103 -> 0x3380
        assertEquals(0x3F80, b.bits[0]);
        assertEquals(0x3F80, b.bits[1]);
        assertEquals(0x3F82, b.bits[2]);
        assertEquals(0x3380, b.bits[3]);
        Out f = convertHalves(DType.F16, DType.F32, 0x0001, 0x7BFF, 0xC000);
        assertEquals(0x33800000L, f.bits[0]);  // 2^-24
        assertEquals(0x477FE000L, f.bits[1]);  // 65504
        assertEquals(0xC0000000L, f.bits[2]);  // -2
        assertEquals(0, f.overflows);
    }

    @Test void f64RoundsOnceNotTwice() {
        // 1 + 2^-11 + 2^-40 is just above the f16 halfway point, so it rounds up to 0x3C01; a cast to
        // float first would drop the 2^-40 and then tie to even 0x3C00.
        Out h = convertDoubles(DType.F16, 1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-11, 1e300);
        assertEquals(0x3C01, h.bits[0]);
        assertEquals(0x3C00, h.bits[1]);
        assertEquals(0x7C00, h.bits[2]);
        assertEquals(1, h.overflows);
        Out b = convertDoubles(DType.BF16, 1 + 0x1p-8 + 0x1p-40, 1 + 0x1p-8);
        assertEquals(0x3F81, b.bits[0]);
        assertEquals(0x3F80, b.bits[1]);
        Out f = convertDoubles(DType.F32, 1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-50, 1e39);
        assertEquals(0x3F800000L, f.bits[0]);
        assertEquals(0x3F800001L, f.bits[1]);
        assertEquals(0x7F800000L, f.bits[2]);
        assertEquals(1, f.overflows);
    }

    @Test void refusesIntegerAndF64Targets() {
        ByteBuffer b = ByteBuffer.allocate(8);
        assertThrows(IllegalArgumentException.class, () -> FloatConversion.convert(b, DType.I32, b, DType.F16, 1));
        assertThrows(IllegalArgumentException.class, () -> FloatConversion.convert(b, DType.F32, b, DType.F64, 1));
    }
}
