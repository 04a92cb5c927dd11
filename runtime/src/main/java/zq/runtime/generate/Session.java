package zq.runtime.generate;

import zq.formats.Checkpoint;
import zq.runtime.Activations;
import zq.runtime.KvCache;
import zq.runtime.LayerStream;
import zq.runtime.TokenDecoder;

import java.util.Arrays;
import java.util.List;

/**
 * One sequence being extended token by token: the ids the {@link KvCache} holds, and the two ways of adding
 * to it. A prompt of many tokens is prefilled layer by layer ({@link LayerStream}: one layer's weights in
 * fp32 at a time, chunked gemms); a few tokens, and every generated token, go through {@link TokenDecoder},
 * which reads the weights where they are stored. Feeding a sequence that shares a prefix with the cached one
 * (the next turn of a chat) reuses the prefix and computes only the rest. Not thread-safe.
 */
public final class Session implements AutoCloseable {
    /** Prompts up to this many new tokens are fed one by one: cheaper than decoding every layer to fp32. */
    static final int STEPWISE_PREFILL_MAX = 8;

    private final Checkpoint checkpoint;
    private final LayerStream stream;
    private final TokenDecoder decoder;
    private final KvCache cache;
    private final int maxPositions;
    private int[] ids = new int[0];

    /** @param maxPositions the context: positions the cache may hold (at most the model's max_position_embeddings) */
    public Session(Checkpoint checkpoint, int maxPositions) {
        this.checkpoint = checkpoint;
        this.maxPositions = maxPositions;
        this.stream = new LayerStream(checkpoint);
        this.decoder = new TokenDecoder(checkpoint);
        this.cache = new KvCache(checkpoint.config(), 0);
    }

    public Session(Checkpoint checkpoint) { this(checkpoint, checkpoint.config().maxPositionEmbeddings()); }

    public Checkpoint checkpoint() { return checkpoint; }

    public TokenDecoder decoder() { return decoder; }

    public int maxPositions() { return maxPositions; }

    /** The ids whose keys and values the cache holds, in order. */
    public int[] ids() { return ids.clone(); }

    public int length() { return ids.length; }

    /** Native bytes of the KV cache. */
    public long cacheBytes() { return cache.bytes(); }

    /**
     * Makes the cache hold exactly {@code sequence} and returns the logits that follow its last token. The
     * longest prefix shared with the cached ids is kept (at least the last token is recomputed).
     */
    public float[] feed(int[] sequence) {
        if (sequence.length == 0) throw new IllegalArgumentException("empty prompt: nothing to continue");
        if (sequence.length > maxPositions) {
            throw new IllegalArgumentException("the prompt has " + sequence.length + " tokens; the context of " + checkpoint.dir()
                    + " is " + maxPositions + " (max_position_embeddings)");
        }
        int keep = 0;
        while (keep < ids.length && keep < sequence.length - 1 && ids[keep] == sequence[keep]) keep++;
        cache.truncate(keep);
        ids = Arrays.copyOf(ids, keep);
        int[] rest = Arrays.copyOfRange(sequence, keep, sequence.length);
        cache.reserve(sequence.length);
        if (rest.length <= STEPWISE_PREFILL_MAX) {
            float[] logits = null;
            for (int t : rest) logits = step(t);
            return logits;
        }
        Activations x = stream.embed(List.of(rest));
        float[] hidden = x.windows().get(0);
        for (int i = 0; i < stream.layerCount(); i++) stream.prefill(stream.loadLayer(i), hidden, rest.length, cache.layer(i));
        ids = sequence.clone();
        int h = checkpoint.config().hiddenSize();
        return decoder.logits(Arrays.copyOfRange(hidden, (rest.length - 1) * h, rest.length * h));
    }

    /** Appends one token and returns the logits after it. */
    public float[] step(int token) {
        if (ids.length >= maxPositions) throw new IllegalStateException("the context of " + maxPositions + " positions is full");
        float[] logits = decoder.step(token, cache);
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = token;
        return logits;
    }

    /** Forgets everything (the cache's memory is kept for the next sequence). */
    public void reset() {
        cache.truncate(0);
        ids = new int[0];
    }

    @Override public void close() {
        cache.close();
        decoder.close();
        stream.close();
    }
}
