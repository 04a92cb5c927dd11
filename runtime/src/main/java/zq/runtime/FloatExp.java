package zq.runtime;

/**
 * e^x in fp32 to within one unit in the last place, several times faster than {@code (float) Math.exp(x)}:
 * the runtime takes hundreds of millions of exponentials per 7B-wide pass (SiLU, attention softmax, the
 * softmax statistics of the logits), where fp32 accuracy is all the model has anyway (PyTorch's CPU
 * kernels use a vectorized fp32 exp of the same accuracy).
 * <p>
 * The argument is reduced to {@code x = n·ln2 + r}, {@code |r| ≤ ln2/2}, with ln2 split in two so that
 * {@code r} is exact (Cody–Waite), e^r comes from the minimax polynomial of Cephes' expf, and 2^n is
 * applied as two power-of-two factors so that results in the subnormal range round once.
 */
public final class FloatExp {
    private FloatExp() {}

    // package-private: VectorKernels.exp repeats these steps lane by lane
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** Above this, e^x overflows fp32; below the other bound it rounds to zero. */
    static final float OVERFLOW = 88.72283935546875f, UNDERFLOW = -103.972084045410f;
    /** 1.5·2^23: adding it rounds a float of magnitude below 2^22 to an integer held in the low mantissa bits. */
    static final float ROUNDER = 12582912f;
    /** Cephes' expf polynomial, highest degree first. */
    static final float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f,
            P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    public static float exp(float x) {
        if (!(x < OVERFLOW)) return x > 0 ? Float.POSITIVE_INFINITY : x; // +∞ or NaN (x == OVERFLOW itself overflows)
        if (!(x > UNDERFLOW)) return 0f;
        float shifted = x * LOG2E + ROUNDER;
        int n = Float.floatToRawIntBits(shifted) - 0x4B400000;
        float nf = shifted - ROUNDER;
        float r = x - nf * LN2_HI;
        r = r - nf * LN2_LO;
        float p = P0;
        p = p * r + P1;
        p = p * r + P2;
        p = p * r + P3;
        p = p * r + P4;
        p = p * r + P5;
        p = p * (r * r) + r + 1f;
        int n1 = n >> 1, n2 = n - n1; // each within the normal exponents for every n in range
        return p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }
}
