package zq.runtime;

import zq.formats.Checkpoint;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs one token at a time through every layer against a {@link KvCache}, reading the weights where they
 * are stored ({@link MatVec}: mapped BF16/F16/F32 rows, or GPTQ Int4 packed words); only norms, biases and
 * GPTQ scales are held as fp32. The arithmetic is that of {@link LayerSteps} for one row: the same
 * RMSNorm, RoPE, attention and SwiGLU code, with matrix-vector products in place of gemms.
 * Not thread-safe; close it to free its native workspace.
 */
public final class TokenDecoder implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final ModelConfig config;
    private final NativeWorkspace workspace = new NativeWorkspace();
    private final Attention attention;
    private final FusedQkv fused;
    private final List<StoredLayer> layers = new ArrayList<>();
    private final MappedMatrix embedding, head;
    private final float[] finalNorm;

    /** One layer's weights in stored form; {@code qkv} is q, k, v, or Zhinao's one fused projection. */
    private record StoredLayer(float[] inputNorm, float[] postNorm, List<Projection> qkv, Projection o, Projection gate,
                               Projection up, Projection down) {}

    /** A Linear in stored form and its fp32 bias (or null). */
    private record Projection(MatVec weight, float[] bias) {
        float[] apply(float[] x) {
            float[] y = new float[weight.rows()];
            weight.multiply(x, y);
            if (bias != null) for (int i = 0; i < y.length; i++) y[i] += bias[i];
            return y;
        }
    }

    public TokenDecoder(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
        this.config = checkpoint.config();
        this.attention = new Attention(config, workspace);
        this.fused = new FusedQkv(config.numHeads(), config.numKvHeads(), config.headDim());
        for (LayerLayout l : checkpoint.layout().layers()) {
            layers.add(new StoredLayer(checkpoint.floats(l.inputNorm()), checkpoint.floats(l.postAttentionNorm()),
                    l.attention().stream().map(this::projection).toList(), projection(l.o()), projection(l.gate()),
                    projection(l.up()), projection(l.down())));
        }
        this.embedding = MappedMatrix.of(checkpoint, checkpoint.layout().embedTokens());
        this.head = MappedMatrix.of(checkpoint, checkpoint.layout().outputProjection());
        this.finalNorm = checkpoint.floats(checkpoint.layout().finalNorm());
    }

    private Projection projection(LinearRef r) {
        return new Projection(MatVec.of(checkpoint, r), r.hasBias() ? checkpoint.floats(r.bias()) : null);
    }

    public ModelConfig config() { return config; }

    /** Bytes of stored weights one token reads: every layer's Linears and the output head. */
    public long weightBytesPerToken() {
        long b = head.storedBytes();
        for (StoredLayer l : layers) {
            for (Projection p : l.qkv()) b += p.weight().storedBytes();
            for (Projection p : List.of(l.o(), l.gate(), l.up(), l.down())) b += p.weight().storedBytes();
        }
        return b;
    }

    /** The embedding row of {@code token}, refusing ids outside the vocabulary. */
    public float[] embed(int token) {
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + checkpoint.dir()
                    + " (vocab_size " + config.vocabSize() + ")");
        }
        float[] x = new float[config.hiddenSize()];
        embedding.row(token, x);
        return x;
    }

    /** Appends {@code token} at position {@code cache.length()} in every layer and returns the next-token logits. */
    public float[] step(int token, KvCache cache) {
        float[] x = embed(token);
        for (int i = 0; i < layers.size(); i++) layer(layers.get(i), x, cache.layer(i));
        return logits(x);
    }

    /** Logits {@code [vocab]} of one last-layer hidden state (final RMSNorm, then the head). */
    public float[] logits(float[] hidden) {
        float[] normed = RmsNorm.apply(hidden, 1, finalNorm, config.rmsNormEps());
        float[] y = new float[head.rows()];
        head.multiply(normed, y);
        return y;
    }

    private void layer(StoredLayer l, float[] x, LayerKv cache) {
        int hd = config.headDim(), qWidth = config.numHeads() * hd, kvWidth = config.numKvHeads() * hd;
        float[] h = RmsNorm.apply(x, 1, l.inputNorm(), config.rmsNormEps());
        float[] q, k, v;
        if (l.qkv().size() == 1) {
            float[] all = l.qkv().get(0).apply(h);
            q = new float[qWidth];
            k = new float[kvWidth];
            v = new float[kvWidth];
            for (int head = 0; head < config.numHeads(); head++) System.arraycopy(all, fused.qOffset(head), q, head * hd, hd);
            for (int g = 0; g < config.numKvHeads(); g++) {
                System.arraycopy(all, fused.kOffset(g), k, g * hd, hd);
                System.arraycopy(all, fused.vOffset(g), v, g * hd, hd);
            }
        } else {
            q = l.qkv().get(0).apply(h);
            k = l.qkv().get(1).apply(h);
            v = l.qkv().get(2).apply(h);
        }
        float[] mixed = new float[qWidth];
        attention.apply(q, k, v, 0, 1, cache, mixed);
        LayerSteps.addInPlace(x, l.o().apply(mixed));
        h = RmsNorm.apply(x, 1, l.postNorm(), config.rmsNormEps());
        float[] gate = l.gate().apply(h), up = l.up().apply(h);
        LayerSteps.swiGlu(gate, up);
        LayerSteps.addInPlace(x, l.down().apply(gate));
    }

    @Override public void close() { workspace.close(); }
}
