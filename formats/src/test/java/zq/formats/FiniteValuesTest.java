package zq.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** Raw little-endian values; the expected answers come from Float.isFinite on the same bits, decoded by the JDK. */
    @Test void rawValuesAreCheckedOnTheirBitsInEveryFloatingDtype() {
        int n = 2 * (1 << 20) + 3; // two parallel pieces and a partial one
        ByteBuffer bf16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        short[] finiteBf16 = {0x7F7F, (short) 0xFF7F, 0x0001, (short) 0x8000}; // ±max finite, smallest subnormal, -0
        for (int i = 0; i < n; i++) bf16.putShort(2 * i, finiteBf16[i % 4]);
        for (short s : finiteBf16) assertTrue(Float.isFinite(Float.intBitsToFloat(s << 16)));
        assertEquals(-1, FiniteValues.firstNonFinite(bf16, DType.BF16));
        bf16.putShort(2 * ((1 << 20) + 7), (short) 0x7FC0); // NaN in the second piece
        assertFalse(Float.isFinite(Float.intBitsToFloat(0x7FC0 << 16)));
        assertEquals((1 << 20) + 7, FiniteValues.firstNonFinite(bf16, DType.BF16));
        bf16.putShort(2 * 3, (short) 0xFF80); // -inf earlier wins
        assertEquals(3, FiniteValues.firstNonFinite(bf16, DType.BF16));

        // f16: 0x7BFF is 65504, the largest finite half; 0x7C00 is +inf, 0xFE00 a NaN (IEEE 754 binary16 layout)
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 0x7BFF).putShort(2, (short) 0xFBFF)
                .putShort(4, (short) 0x03FF).putShort(6, (short) 0x7C00);
        assertEquals(3, FiniteValues.firstNonFinite(f16, DType.F16));
        // the wrong alternative, bf16's exponent mask on f16 data, would miss +inf: 0x7C00 & 0x7F80 is not 0x7F80
        assertEquals(-1, FiniteValues.firstNonFinite(f16, DType.BF16));

        ByteBuffer f32 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.MAX_VALUE).putFloat(4, Float.NaN)
                .putFloat(8, 1f);
        assertEquals(1, FiniteValues.firstNonFinite(f32, DType.F32));
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, 1e308).putDouble(8, Double.NEGATIVE_INFINITY);
        assertEquals(1, FiniteValues.firstNonFinite(f64, DType.F64));
        assertEquals(-1, FiniteValues.firstNonFinite(ByteBuffer.allocate(8).putInt(0, 0x7FC00000), DType.I32), "integers are not checked");
    }
}
