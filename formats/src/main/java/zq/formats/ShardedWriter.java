package zq.formats;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
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
    private final List<List<SafetensorsWriter.Planned>> shards;
    private final List<Path> files = new ArrayList<>();
    private int shard = -1;
    private SafetensorsWriter current;

    private ShardedWriter(Path dir, Map<String, String> metadata, List<List<SafetensorsWriter.Planned>> shards) {
        this.dir = dir;
        this.metadata = metadata;
        this.shards = shards;
    }

    /** Plans the shards of {@code tensors} in {@code dir}; nothing is written until the first {@link #put}. */
    public static ShardedWriter open(Path dir, Map<String, String> metadata, List<SafetensorsWriter.Planned> tensors,
                                     long maxShardBytes) {
        return new ShardedWriter(dir, metadata, plan(tensors, SafetensorsWriter.Planned::byteSize, maxShardBytes));
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

    /** Writes the next planned tensor (see {@link SafetensorsWriter#put}: order and byte count are checked). */
    public void put(String name, TensorData data) throws IOException {
        while (current == null || current.complete()) {
            if (current != null) current.finish();
            if (shard + 1 >= shards.size()) throw new IOException(dir + ": tensor '" + name + "' is beyond the planned tensors");
            shard++;
            Path f = dir.resolve(shards.size() == 1 ? SINGLE_FILE : shardName(shard, shards.size()));
            current = SafetensorsWriter.open(f, metadata, shards.get(shard));
            files.add(f);
        }
        current.put(name, data);
    }

    /** Checks that every planned tensor was written, closes the last shard and writes the index; returns the files. */
    public List<Path> finish() throws IOException {
        if (current == null) {
            if (!shards.get(0).isEmpty()) throw new IOException(dir + ": no tensor was written of the " + shards.get(0).size() + " planned");
            Path f = dir.resolve(SINGLE_FILE);
            SafetensorsWriter.open(f, metadata, List.of()).finish();
            files.add(f);
            return List.copyOf(files);
        }
        current.finish();
        if (shard + 1 < shards.size()) {
            throw new IOException(dir + ": shards " + (shard + 2) + " to " + shards.size() + " were never written; next tensor was '"
                    + shards.get(shard + 1).get(0).name() + "'");
        }
        if (shards.size() == 1) return List.copyOf(files);
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
        Files.writeString(idx, HfJson.pretty(index));
        files.add(idx);
        return List.copyOf(files);
    }

    /** Closes the shard being written, complete or not (the caller's {@link OutputFolder} discards an incomplete output). */
    @Override public void close() throws IOException {
        if (current != null) current.close();
    }
}
