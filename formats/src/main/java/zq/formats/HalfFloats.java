package zq.formats;

/**
 * IEEE binary16 and bfloat16 conversions with round-to-nearest-even.
 * JDK 17 has no Float.floatToFloat16, so the bit manipulation is done here once.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bfloat16 bits to float: bf16 is the top half of a float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN, overflow rounds to infinity. */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x0040); // keep sign and payload top bits, force quiet
        }
        int lsb = (x >>> 16) & 1;
        int rounded = x + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }

    /** binary16 bits to float (exact). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            // subnormal: mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float to binary16 bits, round to nearest even, with subnormals; values beyond the range become infinity. */
    public static short floatToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7FFFFFFF;
        if (abs > 0x7F800000) return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF)); // NaN, quiet
        if (abs >= 0x477FF000) return (short) (sign | 0x7C00); // >= 65520 rounds to infinity
        if (abs < 0x38800000) { // below the smallest normal half (2^-14): subnormal or zero
            if (abs < 0x33000000) return (short) sign; // < 2^-25 rounds to zero (2^-25 itself ties to even zero)
            int e = abs >>> 23;
            int mant = (abs & 0x7FFFFF) | 0x800000;
            int shift = 126 - e; // brings value to units of 2^-24: value = mant * 2^(e-150) -> shift = 150-24-e
            int q = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (rem > half || (rem == half && (q & 1) != 0)) q++;
            return (short) (sign | q);
        }
        int rounded = abs + 0xFFF + ((abs >>> 13) & 1);
        return (short) (sign | ((rounded - (112 << 23)) >>> 13));
    }

    /** True when a finite float overflows binary16 (rounds to infinity). */
    public static boolean overflowsF16(float f) {
        return Float.isFinite(f) && Float.isInfinite(f16ToFloat(floatToF16(f)));
    }
}
