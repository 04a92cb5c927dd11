package zq.validate;

import zq.formats.Checkpoint;
import zq.runtime.LayerStream;
import zq.runtime.NativeWorkspace;

import java.util.List;

/**
 * Runs a baseline and a candidate model on the same windows and compares their next-token
 * distributions over the full vocabulary (fp32 logits, log-softmax and sums in double). The models may
 * differ in format (dense or GPTQ) and in architecture, but must share the vocabulary.
 */
public final class Parity {
    private Parity() {}

    public static ParityReport run(Checkpoint baseline, Checkpoint candidate, int[] tokens, Perplexity.Options options) {
        SharedVocabulary.check(baseline, candidate);
        List<int[]> windows = ScoredWindows.of(tokens, options, baseline, candidate);
        double[] kld = new double[(int) TokenWindows.predicted(windows)];
        double nllBase = 0, nllCand = 0, sumDp = 0, sumDp2 = 0;
        long top1Same = 0;
        int at = 0;
        // the two models run one after the other, so they share one set of native buffers
        try (NativeWorkspace workspace = new NativeWorkspace();
             LayerStream base = options.stream(baseline, workspace); LayerStream cand = options.stream(candidate, workspace)) {
            for (List<int[]> pass : TokenWindows.passes(windows, options.tokensPerPass())) {
                int[] targets = NextTokenStates.targets(pass);
                RowSoftmaxStats b = new RowSoftmaxStats(targets, true), c = new RowSoftmaxStats(targets, false);
                List<LogitScan.Input> inputs = List.of(new LogitScan.Input(base.head(), NextTokenStates.compute(base, pass)),
                        new LogitScan.Input(cand.head(), NextTokenStates.compute(cand, pass)));
                LogitScan.run(workspace, inputs, targets.length, options.logitChunkRows(), (row0, rows, v0, count, logits) -> {
                    b.update(row0, rows, v0, count, logits.get(0), logits.get(1));
                    c.update(row0, rows, v0, count, logits.get(1), null);
                });
                for (int i = 0; i < targets.length; i++) {
                    nllBase += b.nll(i);
                    nllCand += c.nll(i);
                    // KL(P‖Q) = E_P[z_P − z_Q] − lse(z_P) + lse(z_Q); rounding can leave −1e-16 where P = Q
                    kld[at++] = Math.max(0, b.expectedLogitGap(i) - b.logSumExp(i) + c.logSumExp(i));
                    if (b.argmax(i) == c.argmax(i)) top1Same++;
                    double dp = c.targetProbability(i) - b.targetProbability(i);
                    sumDp += dp;
                    sumDp2 += dp * dp;
                }
            }
        }
        int n = kld.length;
        return ParityReport.of(ScoredWindows.requireFinite(Math.exp(nllBase / n), baseline),
                ScoredWindows.requireFinite(Math.exp(nllCand / n), candidate), kld, top1Same, sumDp, sumDp2, windows.size(),
                options.seqLen());
    }
}
