package zq.runtime;

import zq.formats.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The KV cache of one sequence for every layer of a model (see {@link LayerKv} for the layout).
 * fp32: 2 · layers · kv_heads · head_dim · 4 bytes per position, 128 KiB at 7B width with 8 KV heads
 * (4 GiB at 32K positions), which {@link #bytes()} reports.
 */
public final class KvCache implements AutoCloseable {
    private final List<LayerKv> layers = new ArrayList<>();

    /** @param ropeLength the sequence length RoPE is built for (prompt plus new tokens; matters for dynamic NTK only) */
    public KvCache(ModelConfig config, int ropeLength) {
        for (int i = 0; i < config.numLayers(); i++) {
            LayerKv l = new LayerKv(config.numKvHeads(), config.headDim());
            l.reset(ropeLength);
            layers.add(l);
        }
    }

    public LayerKv layer(int i) { return layers.get(i); }

    public int layerCount() { return layers.size(); }

    /** Positions every layer holds. */
    public int length() {
        int n = Integer.MAX_VALUE;
        for (LayerKv l : layers) n = Math.min(n, l.length());
        return layers.isEmpty() ? 0 : n;
    }

    /** Makes room for {@code positions} in every layer at once (no regrowth while they are appended). */
    public void reserve(int positions) { layers.forEach(l -> l.reserve(positions)); }

    public void truncate(int newLength) { layers.forEach(l -> l.truncate(newLength)); }

    /** Native bytes of all layers' K and V. */
    public long bytes() {
        long b = 0;
        for (LayerKv l : layers) b += l.bytes();
        return b;
    }

    /** Bytes per cached position: what a cache of n positions costs. */
    public static long bytesPerPosition(ModelConfig c) {
        return 2L * c.numLayers() * c.numKvHeads() * c.headDim() * Float.BYTES;
    }

    @Override public void close() { layers.forEach(LayerKv::close); }
}
