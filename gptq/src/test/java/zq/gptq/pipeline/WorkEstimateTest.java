package zq.gptq.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collections;
import org.junit.jupiter.api.Test;
import zq.formats.Architecture;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.SyntheticModel;

/**
 * The FLOP count a run prints before its first layer and the pipeline benchmark divides by the sgemm rate, against a
 * count by hand at 360Zhinao2-7B's widths (hidden 4096, 32/8 heads of 128, intermediate 13056) over 16 windows of
 * 512 tokens, and against the rounded figures for one layer that README's "Pipeline benchmark" quotes from the
 * target's count (3.35 TFLOP of forward, 1.8 of Hessians, 2.9 of solves with one Cholesky and one triangular inverse
 * per Hessian).
 */
class WorkEstimateTest {
    private static final double T = 16 * 512;

    private static WorkEstimate sevenB(int layers) {
        ModelConfig config = ModelConfig.of(SyntheticModel.config(Architecture.ZHINAO, 4096, 13056, layers, 32, 8, 158464), null);
        return WorkEstimate.of(config, ModelLayout.of(config), PipelineFixtures.options(QuantizeMethod.GPTQ,
                zq.gptq.GptqConfig.recommended(), true), Collections.nCopies(16, 512));
    }

    /** n³/3, then for each block of 1024 (the last one shorter): len³/3 for its inverse, len²·(columns before it). */
    private static double factorisation(int n) {
        double f = Math.pow(n, 3) / 3;
        for (int o1 = 0; o1 < n; o1 += 1024) {
            double len = Math.min(1024, n - o1);
            f += Math.pow(len, 3) / 3 + len * len * o1;
        }
        return f;
    }

    @Test
    void aSevenBLayerAtSixteenBy512MatchesTheHandCount() {
        WorkEstimate w = sevenB(1);
        // Linears: qkv 4096×6144, o 4096×4096, gate and up 4096×13056 each, down 13056×4096; two flops per weight per token
        double weights = 4096.0 * 6144 + 4096.0 * 4096 + 2 * 4096.0 * 13056 + 13056.0 * 4096;
        // causal attention per window: scores and mixing, 2·heads·head_dim·L·(L+1)
        double attention = 16 * 2.0 * 32 * 128 * 512 * 513;
        double relative = 1e-12; // the same sums in another order
        assertEquals(2 * T * weights + attention, w.forwardFlops(), relative * w.forwardFlops());
        assertEquals(1.0, w.forwardsPerLayer(), 0);
        // one triangle of XᵀX per shared input: q/k/v, o and gate/up read 4096 features, down 13056
        assertEquals(T * (3 * 4096.0 * 4096 + 13056.0 * 13056), w.hessianFlops(), relative * w.hessianFlops());
        // column loops: out·n² per Linear
        double loops = (6144.0 + 4096 + 2 * 13056) * 4096 * 4096 + 4096.0 * 13056 * 13056;
        assertEquals(3 * factorisation(4096) + factorisation(13056) + loops, w.solveFlops(), relative * w.solveFlops());
        double wholeInverse = 2.0 / 3 * (3 * Math.pow(4096, 3) + Math.pow(13056, 3)) + loops;
        assertEquals(wholeInverse, w.wholeInverseSolveFlops(), relative * wholeInverse);

        // the README's figures are rounded to two digits (3.35, 1.8, 2.9 TFLOP): 2 % of each
        assertEquals(3.35e12, w.forwardFlops(), 0.02 * 3.35e12);
        assertEquals(1.8e12, w.hessianFlops(), 0.02 * 1.8e12);
        assertEquals(2.9e12, w.wholeInverseSolveFlops(), 0.02 * 2.9e12);
        // and the factorisation without the whole inverse is about a quarter less solve work at this width
        assertEquals(2.22e12, w.solveFlops(), 0.01 * 2.22e12);
    }

    @Test
    void layersMultiplyTheWork() {
        WorkEstimate one = sevenB(1);
        WorkEstimate many = sevenB(32);
        assertEquals(32 * one.totalFlops(), many.totalFlops(), 1e-12 * many.totalFlops());
        assertEquals(32 * one.wholeInverseTotalFlops(), many.wholeInverseTotalFlops(), 1e-12 * many.wholeInverseTotalFlops());
        assertEquals(32, many.layers());
        assertEquals((long) T, many.tokens());
    }
}
