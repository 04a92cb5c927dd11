package zq.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SIMD exponential of SwiGLU and the attention softmax against {@link FloatExp}, which {@link FloatExpTest} holds
 * to Math.exp: both paths must give the same bits, so that a result never depends on whether the JVM had the Vector
 * API (the zq launcher adds it only for some commands).
 */
class VectorExpTest {

    /** Every 4099th fp32 bit pattern (NaNs, infinities, subnormals included) and the edges of the scalar code's range. */
    private static float[] arguments() {
        List<Float> v = new ArrayList<>();
        for (long bits = 0; bits <= 0xFFFFFFFFL; bits += 4099) v.add(Float.intBitsToFloat((int) bits));
        for (float x : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, FloatExp.OVERFLOW, Math.nextDown(FloatExp.OVERFLOW),
                FloatExp.UNDERFLOW, Math.nextUp(FloatExp.UNDERFLOW), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, Float.intBitsToFloat(0x7FC01234), 1f, -1f, 0.5f * (float) Math.log(2), 87.5f, -87.5f}) v.add(x);
        float[] a = new float[v.size()];
        for (int i = 0; i < a.length; i++) a[i] = v.get(i);
        return a;
    }

    @Test void theVectorExponentialIsTheScalarOneBitForBit() {
        assertTrue(VectorSupport.AVAILABLE, "the test JVM adds jdk.incubator.vector (surefire argLine)");
        float[] x = arguments();
        for (float max : new float[] {0f, 3.5f, -20f}) {
            float[] s = x.clone();
            int done = VectorKernels.expShifted(s, 0, s.length, max);
            assertTrue(done > s.length - VectorKernels.floatLanes(), "the kernel leaves at most one vector's worth");
            for (int i = 0; i < done; i++) {
                float expected = FloatExp.exp(x[i] - max);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(s[i]),
                        "e^(" + x[i] + " - " + max + "): scalar " + expected + ", vector " + s[i]);
            }
        }
    }

    /**
     * The check above can fail: a polynomial evaluated with fused multiply-adds (one rounding less per step) gives
     * other bits for hundreds of the sampled arguments (473 when this was written; most arguments near 0 round alike).
     */
    @Test void aFusedPolynomialGivesOtherBits() {
        int differ = 0;
        for (float x : arguments()) {
            if (!(x < FloatExp.OVERFLOW && x > FloatExp.UNDERFLOW)) continue;
            if (Float.floatToRawIntBits(fusedExp(x)) != Float.floatToRawIntBits(FloatExp.exp(x))) differ++;
        }
        assertTrue(differ > 100, differ + " arguments differ");
    }

    private static float fusedExp(float x) {
        float shifted = x * FloatExp.LOG2E + FloatExp.ROUNDER;
        int n = Float.floatToRawIntBits(shifted) - 0x4B400000;
        float nf = shifted - FloatExp.ROUNDER;
        float r = x - nf * FloatExp.LN2_HI;
        r = r - nf * FloatExp.LN2_LO;
        float p = Math.fma(FloatExp.P0, r, FloatExp.P1);
        p = Math.fma(p, r, FloatExp.P2);
        p = Math.fma(p, r, FloatExp.P3);
        p = Math.fma(p, r, FloatExp.P4);
        p = Math.fma(p, r, FloatExp.P5);
        p = Math.fma(p, r * r, r) + 1f;
        int n1 = n >> 1, n2 = n - n1;
        return p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }

    @Test void swiGluGivesTheSameBitsWithAndWithoutTheVectorApi() {
        SplittableRandom random = new SplittableRandom(5);
        // three parallel pieces and a ragged end, so every piece has a scalar tail
        int n = 3 * (1 << 16) + 37;
        float[] gate = new float[n], up = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) (random.nextDouble() * 240 - 120);
            up[i] = (float) random.nextGaussian();
        }
        float[] special = arguments();
        System.arraycopy(special, special.length - 17, gate, 1000, 17);
        float[] scalar = gate.clone(), vector = gate.clone();
        LayerSteps.swiGlu(scalar, up, false);
        LayerSteps.swiGlu(vector, up, true);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vector[i]),
                    "silu(" + gate[i] + ") · " + up[i] + ": scalar " + scalar[i] + ", vector " + vector[i]);
        }
        // and the scalar loop is silu as PyTorch writes it, in float64 within fp32 rounding of the exponential
        for (int i = 0; i < n; i += 97) {
            double g = gate[i];
            double expected = g / (1 + Math.exp(-g)) * up[i];
            assertEquals(expected, scalar[i], 4e-7 * Math.abs(expected) + 1e-30, "silu(" + g + ") · " + up[i]);
        }
    }
}
