package zq.gptq.pipeline;

import java.util.List;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.gptq.GptqSolver;
import zq.runtime.InputGroup;
import zq.runtime.InputGroup.Kind;

/**
 * The floating-point work of a GPTQ run, counted before it starts: what the run cannot do faster than the machine's
 * sgemm rate allows. Per decoder layer, over T calibration tokens in windows of L:
 * <ul>
 *   <li>forward: 2·T·(weights of the layer) for the Linears, plus 2·heads·head_dim·L·(L+1) per window for the
 *       causal scores and their mixing; with true-sequential the layer runs once, plus what is recomputed because it
 *       did not fit the stage budget ({@link #forwardsPerLayer}); without it twice (dense for the Hessians, quantised
 *       for the outputs);</li>
 *   <li>Hessians: T·n² per input group of width n (ssyrk computes one triangle);</li>
 *   <li>solves: per Hessian, its factorisation ({@link GptqSolver#factorFlops}: n³/3 for the Cholesky and a few
 *       percent for U's diagonal blocks and the pulls, shared by the Linears that read the same input), plus out·n²
 *       per Linear for the error propagation of the column loop.</li>
 * </ul>
 * The README's quantize target was set in a count with 2n³/3 per Hessian instead (one Cholesky and the triangular
 * inverse that forms the whole of U); {@link #wholeInverseSolveFlops} is the solves in that count.
 *
 * @param layers            decoder layers
 * @param tokens            calibration tokens
 * @param forwardFlops      all layers' forward work, recomputation included
 * @param hessianFlops      all layers' Hessian accumulation
 * @param solveFlops        all layers' factorisations and column loops
 * @param forwardsPerLayer  forward work per layer in units of one forward of the layer
 * @param wholeInverseSolveFlops all layers' solves had each factorisation formed the whole of U (2n³/3)
 */
public record WorkEstimate(int layers, long tokens, double forwardFlops, double hessianFlops, double solveFlops,
                           double forwardsPerLayer, double wholeInverseSolveFlops) {

    public double totalFlops() { return forwardFlops + hessianFlops + solveFlops; }

    /** {@link #totalFlops} with the solves counted as {@link #wholeInverseSolveFlops}. */
    public double wholeInverseTotalFlops() { return forwardFlops + hessianFlops + wholeInverseSolveFlops; }

    /** Seconds at {@code flopsPerSecond}. */
    public double seconds(double flopsPerSecond) { return totalFlops() / flopsPerSecond; }

    /** The work of quantising {@code layout}'s model with {@code options} on {@code windows} of these lengths. */
    public static WorkEstimate of(ModelConfig config, ModelLayout layout, PipelineOptions options, List<Integer> windowLengths) {
        long tokens = 0;
        double attention = 0;
        for (int len : windowLengths) {
            tokens += len;
            attention += attentionFlops(config, len);
        }
        LayerLayout layer = layout.layers().get(0);
        double once = 0;
        double[] step = new double[Kind.values().length];
        for (Kind k : Kind.values()) {
            step[k.ordinal()] = linearFlops(k.linears(layer), tokens) + (k == Kind.ATTENTION ? attention : 0);
            once += step[k.ordinal()];
        }
        double forwards = 2;
        if (options.trueSequential()) {
            forwards = 1;
            for (Kind k : Kind.values()) {
                if (!k.readsNormedResidual() && !keepsInput(options, tokens, k.linears(layer).get(0).inFeatures())) {
                    forwards += step[k.previous().ordinal()] / once;
                }
            }
        }
        double hessian = 0, solve = 0, wholeInverse = 0;
        GptqSolver solver = new GptqSolver(options.gptq());
        for (InputGroup g : InputGroup.of(layer)) {
            double n = g.inFeatures();
            hessian += tokens * n * n;
            double loop = 0;
            for (LinearRef l : g.linears()) loop += (double) l.outFeatures() * n * n;
            solve += solver.factorFlops(g.inFeatures()) + loop;
            wholeInverse += 2 * n * n * n / 3 + loop;
        }
        int layers = layout.layers().size();
        return new WorkEstimate(layers, tokens, layers * forwards * once, layers * hessian, layers * solve, forwards,
                layers * wholeInverse);
    }

    /** Whether the input of a group of this width, for all tokens, fits the stage budget (fp32). */
    static boolean keepsInput(PipelineOptions options, long tokens, int width) {
        return tokens * width * (long) Float.BYTES <= options.stageBudgetBytes();
    }

    /** 2·rows·in·out for each Linear. */
    static double linearFlops(List<LinearRef> linears, long rows) {
        double f = 0;
        for (LinearRef l : linears) f += 2.0 * rows * l.inFeatures() * l.outFeatures();
        return f;
    }

    /** Scores q·kᵀ and their mixing with v over the causal triangle of one window. */
    static double attentionFlops(ModelConfig c, int length) {
        return 2.0 * c.numHeads() * c.headDim() * length * (length + 1.0);
    }

    /** Work of running group {@code kind}'s step once over windows of these lengths. */
    static double stepFlops(ModelConfig c, LayerLayout layer, Kind kind, int[] lengths) {
        long rows = 0;
        double attention = 0;
        for (int len : lengths) {
            rows += len;
            attention += attentionFlops(c, len);
        }
        return linearFlops(kind.linears(layer), rows) + (kind == Kind.ATTENTION ? attention : 0);
    }
}
