package zq.gptq;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD inner loop of the GPTQ column loop ({@link GptqSolver}), on JDK 17's incubating Vector API. Only called
 * when the module is present ({@code zq.runtime.VectorSupport#AVAILABLE}); otherwise the solver's scalar loop runs.
 * C2 on JDK 17 does not vectorise that scalar loop (about 2 GFMA/s per core here, against about 24 with this one).
 *
 * <p>Each lane is multiplied, then subtracted, with no fused multiply-add, exactly as the scalar
 * {@code wt[k] -= e[l] * u} rounds it, so both loops give the same bits.
 */
final class ColumnLoopKernels {
    private ColumnLoopKernels() {}

    private static final class S {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    }

    /** Whether a band of {@code lanes} rows splits into whole vectors. */
    static boolean fits(int lanes) {
        return lanes % S.F.length() == 0;
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
