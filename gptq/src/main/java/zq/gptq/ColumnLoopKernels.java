package zq.gptq;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD inner loop of the GPTQ column loop ({@link GptqSolver}), on JDK 17's incubating Vector API. Only called
 * when the module is present ({@code zq.runtime.VectorSupport#AVAILABLE}); otherwise the solver's scalar loop runs.
 * C2 on JDK 17 does not vectorise those scalar loops (the spread ran at about 2 GFMA/s per core here, against about 24
 * with this one).
 *
 * <p>Every lane does the scalar loop's operations in its order, each rounded once (no fused multiply-add), so both
 * loops give the same bits.
 */
final class ColumnLoopKernels {
    private ColumnLoopKernels() {}

    private static final class S {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    }

    /**
     * 1.5·2²³: for |v| &lt; 2²², (v + ROUNDER) − ROUNDER is v rounded to the nearest integer, ties to even, since the
     * sum lies where fp32's spacing is 1 (and ROUNDER is even); that is torch.round and {@link Math#rint}.
     */
    private static final float ROUNDER = 12582912f;
    /** |x/scale| is clamped to 2²² first: beyond it every code clamps to 0 or maxq anyway. */
    private static final float RATIO_LIMIT = 4194304f;

    /** Whether a band of {@code lanes} rows splits into whole vectors. */
    static boolean fits(int lanes) {
        return lanes % S.F.length() == 0;
    }

    /**
     * Quantises column i of a band of rows held transposed, {@link QuantGrid#code} and {@link QuantGrid#dequantize}
     * lane by lane: for lanes l of whole vectors below {@code rows}, x = wt[base + l] on the grid (scales[g0 + l],
     * zeros[g0 + l], the zero points as floats) gives code[base + l] (an integer in fp32), the scaled error et[base + l] = (x − dq)/d and lossTerm[l] = (x − dq)²/d².
     *
     * @return the lanes done (a multiple of the vector length); the caller does the rest one by one
     */
    static int quantizeColumn(float[] wt, float[] et, float[] code, float[] lossTerm, int base, float[] scales, float[] zeros,
                              int g0, int rows, float d, int maxq) {
        int vl = S.F.length();
        float dd = d * d;
        float top = maxq;
        int l = 0;
        for (; l + vl <= rows; l += vl) {
            FloatVector x = FloatVector.fromArray(S.F, wt, base + l);
            FloatVector scale = FloatVector.fromArray(S.F, scales, g0 + l);
            FloatVector zero = FloatVector.fromArray(S.F, zeros, g0 + l);
            FloatVector ratio = x.div(scale).max(-RATIO_LIMIT).min(RATIO_LIMIT);
            FloatVector q = ratio.add(ROUNDER).sub(ROUNDER).add(zero).max(0f).min(top);
            q.intoArray(code, base + l);
            FloatVector diff = x.sub(scale.mul(q.sub(zero)));
            diff.div(d).intoArray(et, base + l);
            diff.mul(diff).div(dd).intoArray(lossTerm, l);
        }
        return l;
    }

    /**
     * {@code wt[j·lanes + l] −= et[i·lanes + l] · u[i·count + j]} for every j in (i, count) and lane l: column i's
     * scaled error spread over the block's later columns, for a band of rows held transposed.
     */
    static void spreadError(float[] wt, float[] et, float[] u, int i, int count, int lanes) {
        int vl = S.F.length();
        int base = i * lanes;
        int urow = i * count;
        for (int l = 0; l < lanes; l += vl) {
            FloatVector e = FloatVector.fromArray(S.F, et, base + l);
            for (int j = i + 1; j < count; j++) {
                int at = j * lanes + l;
                FloatVector.fromArray(S.F, wt, at).sub(e.mul(u[urow + j])).intoArray(wt, at);
            }
        }
    }
}
