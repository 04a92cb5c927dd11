package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.TensorInfo;

/**
 * The projection from the final hidden state to vocabulary logits: {@code lm_head}, or the token
 * embedding when the config ties them. It is read in slices of vocabulary rows, so neither the whole
 * head nor a whole {@code [tokens × vocab]} logit matrix ever needs to be in memory.
 */
public final class OutputHead {
    /** About 64 MB of fp32 weights per slice. */
    private static final long SLICE_FLOATS = 1L << 24;

    private final Checkpoint checkpoint;
    private final String tensor;
    private final int vocab, hidden, sliceRows;

    public OutputHead(Checkpoint checkpoint) { this(checkpoint, 0); }

    /** @param sliceRows vocabulary rows per slice; 0 picks about 64 MB of weights */
    public OutputHead(Checkpoint checkpoint, int sliceRows) {
        this.checkpoint = checkpoint;
        this.tensor = checkpoint.layout().outputProjection();
        this.vocab = checkpoint.config().vocabSize();
        this.hidden = checkpoint.config().hiddenSize();
        if (sliceRows < 0) throw new IllegalArgumentException("head slice rows must be ≥ 0, got " + sliceRows);
        this.sliceRows = sliceRows > 0 ? Math.min(sliceRows, vocab) : (int) Math.max(1, Math.min(vocab, SLICE_FLOATS / hidden));
        TensorInfo t = checkpoint.info(tensor);
        if (!t.hasShape(vocab, hidden)) {
            throw new IllegalArgumentException(checkpoint.dir() + ": tensor '" + tensor + "' has shape " + t.shapeString()
                    + ", expected [" + vocab + ", " + hidden + "]");
        }
    }

    public int vocabSize() { return vocab; }

    public int hiddenSize() { return hidden; }

    /** Vocabulary rows per slice for this model's width. */
    public int sliceRows() { return sliceRows; }

    /** Head rows {@code [firstToken, firstToken+count)}, loaded into {@code slot} of {@code workspace}. */
    public NativeMatrix slice(NativeWorkspace workspace, String slot, int firstToken, int count) {
        return workspace.load(slot, CheckedRows.read(checkpoint, tensor, firstToken, count), count, hidden);
    }

    /**
     * All logits {@code [rows × vocab]} of final-normed hidden states: for small models and tests; the
     * perplexity path reduces slices on the fly instead.
     */
    public float[] logits(float[] normedHidden, int rows) {
        float[] out = new float[Math.multiplyExact(rows, vocab)];
        try (NativeWorkspace workspace = new NativeWorkspace()) {
            for (int v0 = 0; v0 < vocab; v0 += sliceRows()) {
                int n = Math.min(sliceRows(), vocab - v0);
                float[] part = slice(workspace, "head", v0, n).multiplyTransposed(normedHidden, rows);
                for (int r = 0; r < rows; r++) System.arraycopy(part, r * n, out, r * vocab + v0, n);
            }
        }
        return out;
    }
}
