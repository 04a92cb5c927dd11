package zq.formats;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * Writes a state dict as Hugging Face does: one {@code model.safetensors} when it fits in one shard,
 * otherwise {@code model-00001-of-0000N.safetensors} files plus {@code model.safetensors.index.json}.
 * Shards are planned exactly as huggingface_hub's {@code split_state_dict_into_shards_factory}:
 * greedy in the given order, and a tensor larger than the limit is put in a shard of its own at once
 * while the shard being filled stays open for the tensors after it.
 *
 * <p>Push-style: {@link #open} fixes the whole tensor list and the shard plan; {@link #put} writes each tensor in
 * that order (a shard file is created when its first tensor comes, with its header); {@link #finish} checks that
 * every planned tensor came and writes the index. So a producer that computes tensors one at a time (a quantiser
 * layer by layer) holds only what it has not written yet.
 */
public final class ShardedWriter implements AutoCloseable {
    /** huggingface_hub's MAX_SHARD_SIZE, decimal. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final Map<String, String> metadata;
    private final List<SafetensorsWriter.Planned> order;
    private final List<List<SafetensorsWriter.Planned>> shards;
    private final int[] shardOf; // shard of each tensor, in order
    private final SafetensorsWriter[] open;
    private final Path[] paths;
    private int next;

    private ShardedWriter(Path dir, Map<String, String> metadata, List<SafetensorsWriter.Planned> order,
                          List<List<SafetensorsWriter.Planned>> shards) {
        this.dir = dir;
        this.metadata = metadata;
        this.order = List.copyOf(order);
        this.shards = shards;
        Map<String, Integer> shardByName = new java.util.HashMap<>();
        for (int i = 0; i < shards.size(); i++) for (SafetensorsWriter.Planned p : shards.get(i)) shardByName.put(p.name(), i);
        this.shardOf = order.stream().mapToInt(p -> shardByName.get(p.name())).toArray();
        this.open = new SafetensorsWriter[shards.size()];
        this.paths = new Path[shards.size()];
        for (int i = 0; i < shards.size(); i++) paths[i] = dir.resolve(shards.size() == 1 ? SINGLE_FILE : shardName(i, shards.size()));
    }

    /** Plans the shards of {@code tensors} in {@code dir}; nothing is written until the first {@link #put}. */
    public static ShardedWriter open(Path dir, Map<String, String> metadata, List<SafetensorsWriter.Planned> tensors,
                                     long maxShardBytes) {
        return new ShardedWriter(dir, metadata, tensors, plan(tensors, SafetensorsWriter.Planned::byteSize, maxShardBytes));
    }

    /** Splits {@code entries} into shards of at most {@code maxShardBytes} each (oversized tensors alone). */
    public static List<List<SafetensorsWriter.Entry>> plan(List<SafetensorsWriter.Entry> entries, long maxShardBytes) {
        return plan(entries, SafetensorsWriter.Entry::byteSize, maxShardBytes);
    }

    private static <T> List<List<T>> plan(List<T> entries, ToLongFunction<T> bytes, long maxShardBytes) {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("max shard size must be positive");
        List<List<T>> shards = new ArrayList<>();
        List<T> current = new ArrayList<>();
        long size = 0;
        for (T e : entries) {
            long b = bytes.applyAsLong(e);
            if (b > maxShardBytes) {
                shards.add(List.of(e));
                continue;
            }
            if (size + b > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(e);
            size += b;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        return shards;
    }

    public static String shardName(int index, int count) {
        return String.format("model-%05d-of-%05d.safetensors", index + 1, count);
    }

    /**
     * Writes the shards (and the index if there is more than one) into {@code dir}; returns the files
     * written, shards first. The index's total_size is the sum of the tensors' byte sizes and its
     * weight_map is sorted by tensor name, as transformers writes it.
     */
    public static List<Path> write(Path dir, Map<String, String> metadata, List<SafetensorsWriter.Entry> entries,
                                   long maxShardBytes) throws IOException {
        try (ShardedWriter w = open(dir, metadata, entries.stream().map(SafetensorsWriter.Entry::planned).toList(), maxShardBytes)) {
            for (SafetensorsWriter.Entry e : entries) w.put(e.name(), e.data());
            return w.finish();
        }
    }

    /**
     * Writes the next planned tensor (see {@link SafetensorsWriter#put}: order and byte count are checked). A shard's
     * file is created with its first tensor and closed with its last; an oversized tensor's own shard is written while
     * the shard being filled stays open, as the plan orders them.
     */
    public void put(String name, TensorData data) throws IOException {
        if (next >= order.size()) throw new IOException(dir + ": tensor '" + name + "' is beyond the " + order.size() + " planned");
        if (!order.get(next).name().equals(name)) {
            throw new IOException(dir + ": tensor '" + name + "' was written where the plan has '" + order.get(next).name() + "'");
        }
        int s = shardOf[next];
        if (open[s] == null) open[s] = SafetensorsWriter.open(paths[s], metadata, shards.get(s));
        open[s].put(name, data);
        if (open[s].complete()) open[s].finish();
        next++;
    }

    /** Checks that every planned tensor was written and writes the index; returns the files, shards first. */
    public List<Path> finish() throws IOException {
        if (next < order.size()) {
            throw new IOException(dir + ": only " + next + " of " + order.size() + " planned tensors were written; next was '"
                    + order.get(next).name() + "'");
        }
        List<Path> files = new ArrayList<>();
        if (order.isEmpty()) SafetensorsWriter.open(paths[0], metadata, List.of()).finish();
        for (Path p : paths) files.add(p);
        if (shards.size() == 1) return files;
        long total = 0;
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            for (SafetensorsWriter.Planned e : shards.get(i)) {
                weightMap.put(e.name(), shardName(i, shards.size()));
                total += e.byteSize();
            }
        }
        ObjectNode index = JsonNodeFactory.instance.objectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Path idx = dir.resolve(INDEX_FILE);
        SafetensorsWriter.writeText(idx, HfJson.pretty(index));
        files.add(idx);
        return files;
    }

    /** Closes the shards being written, complete or not (the caller's {@link OutputFolder} discards an incomplete output). */
    @Override public void close() throws IOException {
        for (SafetensorsWriter w : open) if (w != null) w.close();
    }
}
