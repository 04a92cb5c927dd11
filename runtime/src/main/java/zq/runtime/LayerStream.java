package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a checkpoint layer by layer over a batch of windows: embed every window, then pass all of them
 * through layer 0, then layer 1, …, so that only one layer's weights are decoded at any time. Perplexity
 * uses it as is; GPTQ calibration uses the same steps with its own weights and an observer:
 * <pre>
 *   Activations x = stream.embed(windows);
 *   for (int i = 0; i &lt; layers; i++) {
 *       LayerWeights w = stream.loadLayer(i);            // dense fp32, from dense or GPTQ
 *       stream.forward(w, x, observer);                   // observer sees each Linear group's input
 *       w = w.withWeight(role, quantized);                // swap in new weights, run again …
 *       x = stream.forward(w, x, LinearInputObserver.NONE); // … and feed the outputs to layer i+1
 *   }
 * </pre>
 * The checkpoint stays open and owned by the caller. Not thread-safe.
 */
public final class LayerStream implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final ModelConfig config;
    private final DecoderLayer decoder;
    private final OutputHead head;
    private final NativeWorkspace workspace;
    private final boolean ownsWorkspace;

    /** A stream with default blocking and native memory of its own, freed by {@link #close()}. */
    public LayerStream(Checkpoint checkpoint) {
        this(checkpoint, DecoderLayer.DEFAULT_CHUNK_ROWS, 0, new NativeWorkspace(), true);
    }

    /**
     * @param maxChunkRows  rows per gemm (see {@link DecoderLayer})
     * @param headSliceRows vocabulary rows of the output head read at once; 0 picks about 64 MB
     * @param workspace     native memory to use, owned by the caller (streams that run one after the other may share one)
     */
    public LayerStream(Checkpoint checkpoint, int maxChunkRows, int headSliceRows, NativeWorkspace workspace) {
        this(checkpoint, maxChunkRows, headSliceRows, workspace, false);
    }

    private LayerStream(Checkpoint checkpoint, int maxChunkRows, int headSliceRows, NativeWorkspace workspace, boolean owns) {
        this.checkpoint = checkpoint;
        this.config = checkpoint.config();
        this.workspace = workspace;
        this.ownsWorkspace = owns;
        this.decoder = new DecoderLayer(config, maxChunkRows, workspace);
        this.head = new OutputHead(checkpoint, headSliceRows);
    }

    public Checkpoint checkpoint() { return checkpoint; }

    public ModelConfig config() { return config; }

    public int layerCount() { return config.numLayers(); }

    public OutputHead head() { return head; }

    /** The layer computation, for callers that run a layer step by step (GPTQ's staged forward). */
    public DecoderLayer decoder() { return decoder; }

    public NativeWorkspace workspace() { return workspace; }

    /**
     * Runs the next {@code rows} positions of one sequence through layer {@code i} (weights from {@link #loadLayer}),
     * in place in {@code x}, attending to the positions in {@code cache} and appending these: the prefill of a
     * prompt for generation, chunk by chunk ({@link DecoderLayer#prefill}).
     */
    public void prefill(LayerWeights weights, float[] x, int rows, LayerKv cache) { decoder.prefill(weights, x, rows, cache); }

    /** Token embeddings of each window; ids outside the vocabulary are refused. */
    public Activations embed(List<int[]> windows) {
        int h = config.hiddenSize(), vocab = config.vocabSize();
        String embed = checkpoint.layout().embedTokens();
        List<float[]> out = new ArrayList<>(windows.size());
        for (int w = 0; w < windows.size(); w++) {
            int[] tokens = windows.get(w);
            if (tokens.length == 0) throw new IllegalArgumentException("window " + w + " is empty");
            float[] x = new float[tokens.length * h];
            for (int t = 0; t < tokens.length; t++) {
                int id = tokens[t];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " (window " + w + ", position " + t + ") is outside the vocabulary of "
                            + checkpoint.dir() + " (vocab_size " + vocab + ")");
                }
                System.arraycopy(CheckedRows.read(checkpoint, embed, id, 1), 0, x, t * h, h);
            }
            out.add(x);
        }
        return new Activations(h, out);
    }

    /** Layer {@code i}'s weights as mutable dense fp32. */
    public LayerWeights loadLayer(int i) { return LayerWeightsLoader.load(checkpoint, i); }

    public Activations forward(LayerWeights weights, Activations x, LinearInputObserver observer) {
        return decoder.forward(weights, x, observer);
    }

    /** Every layer of the checkpoint in turn, each loaded just before it runs. */
    public Activations forwardAllLayers(Activations x) {
        for (int i = 0; i < layerCount(); i++) x = forward(loadLayer(i), x, LinearInputObserver.NONE);
        return x;
    }

    /** The final RMSNorm of {@code rows} hidden states. */
    public float[] finalNorm(float[] hidden, int rows) {
        return RmsNorm.apply(hidden, rows, checkpoint.floats(checkpoint.layout().finalNorm()), config.rmsNormEps());
    }

    /** Frees the layer's scratch cache, and the workspace when the stream owns it; the checkpoint stays open. */
    @Override public void close() {
        decoder.close();
        if (ownsWorkspace) workspace.close();
    }

    /** All logits {@code [tokens × vocab]} of one window: for tests and small models. */
    public float[] logits(int[] tokens) {
        Activations x = forwardAllLayers(embed(List.of(tokens)));
        return head.logits(finalNorm(x.windows().get(0), tokens.length), tokens.length);
    }
}
