package zq.validate;

import zq.formats.Checkpoint;
import zq.runtime.DecoderLayer;
import zq.runtime.LayerStream;
import zq.runtime.NativeWorkspace;

import java.util.List;

/**
 * Perplexity over non-overlapping windows (see {@link TokenWindows}). Windows run in passes of up to
 * {@link Options#tokensPerPass()} tokens; within a pass every window goes through layer 0, then layer 1,
 * …, and the logits are reduced slice by slice ({@link LogitScan}).
 */
public final class Perplexity {
    /** Tokens whose hidden states one pass holds: 256 MB per copy at hidden 4096. */
    public static final long DEFAULT_TOKENS_PER_PASS = 16384;
    /** Positions per gemm against a head slice: at 256, sgemm ran about 12 % below its rate at 4096 rows. */
    public static final int DEFAULT_LOGIT_CHUNK_ROWS = 1024;

    /**
     * What to score and how to block the work.
     *
     * @param maxWindows     0 for every window
     * @param tokensPerPass  tokens whose hidden states one pass holds (at least one window per pass)
     * @param layerChunkRows rows per gemm inside a layer ({@link DecoderLayer})
     * @param headSliceRows  vocabulary rows of the output head in memory at once; 0 picks about 64 MB
     * @param logitChunkRows positions whose logits against one head slice exist at once
     */
    public record Options(int seqLen, int maxWindows, long tokensPerPass, int layerChunkRows, int headSliceRows,
                          int logitChunkRows) {
        public Options {
            if (tokensPerPass <= 0) throw new IllegalArgumentException("tokens per pass must be positive, got " + tokensPerPass);
            if (layerChunkRows <= 0) throw new IllegalArgumentException("layer chunk rows must be positive, got " + layerChunkRows);
            if (headSliceRows < 0) throw new IllegalArgumentException("head slice rows must be ≥ 0, got " + headSliceRows);
            if (logitChunkRows <= 0) throw new IllegalArgumentException("logit chunk rows must be positive, got " + logitChunkRows);
        }

        public static Options of(int seqLen, int maxWindows) {
            return new Options(seqLen, maxWindows, DEFAULT_TOKENS_PER_PASS, DecoderLayer.DEFAULT_CHUNK_ROWS, 0,
                    DEFAULT_LOGIT_CHUNK_ROWS);
        }

        LayerStream stream(Checkpoint model, NativeWorkspace workspace) {
            return new LayerStream(model, layerChunkRows, headSliceRows, workspace);
        }
    }

    private Perplexity() {}

    public static PerplexityResult run(Checkpoint model, int[] tokens, Options options) {
        try (NativeWorkspace workspace = new NativeWorkspace()) {
            return run(model, tokens, options, workspace);
        }
    }

    /** As {@link #run(Checkpoint, int[], Options)}, in native memory the caller keeps (and may reuse for another run). */
    public static PerplexityResult run(Checkpoint model, int[] tokens, Options options, NativeWorkspace workspace) {
        List<int[]> windows = ScoredWindows.of(tokens, options, model);
        double nll = 0;
        try (LayerStream stream = options.stream(model, workspace)) {
            for (List<int[]> pass : TokenWindows.passes(windows, options.tokensPerPass())) {
                int[] targets = NextTokenStates.targets(pass);
                RowSoftmaxStats stats = new RowSoftmaxStats(targets, false);
                float[] hidden = NextTokenStates.compute(stream, pass);
                LogitScan.run(workspace, List.of(new LogitScan.Input(stream.head(), hidden)), targets.length,
                        options.logitChunkRows(), (row0, rows, v0, count, logits) -> stats.update(row0, rows, v0, count, logits.get(0), null));
                for (int i = 0; i < targets.length; i++) nll += stats.nll(i);
            }
        }
        long predicted = TokenWindows.predicted(windows);
        double ppl = ScoredWindows.requireFinite(Math.exp(nll / predicted), model);
        return new PerplexityResult(ppl, predicted, windows.size(), options.seqLen(), nll);
    }
}
