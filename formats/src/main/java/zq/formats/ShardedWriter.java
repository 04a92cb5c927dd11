package zq.formats;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a state dict as Hugging Face does: one {@code model.safetensors} when it fits in one shard,
 * otherwise {@code model-00001-of-0000N.safetensors} files plus {@code model.safetensors.index.json}.
 * Shards are planned exactly as huggingface_hub's {@code split_state_dict_into_shards_factory}:
 * greedy in the given order, and a tensor larger than the limit is put in a shard of its own at once
 * while the shard being filled stays open for the tensors after it.
 */
public final class ShardedWriter {
    /** huggingface_hub's MAX_SHARD_SIZE, decimal. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private ShardedWriter() {}

    /** Splits {@code entries} into shards of at most {@code maxShardBytes} each (oversized tensors alone). */
    public static List<List<SafetensorsWriter.Entry>> plan(List<SafetensorsWriter.Entry> entries, long maxShardBytes) {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("max shard size must be positive");
        List<List<SafetensorsWriter.Entry>> shards = new ArrayList<>();
        List<SafetensorsWriter.Entry> current = new ArrayList<>();
        long size = 0;
        for (SafetensorsWriter.Entry e : entries) {
            long b = e.byteSize();
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
        List<List<SafetensorsWriter.Entry>> shards = plan(entries, maxShardBytes);
        List<Path> files = new ArrayList<>();
        if (shards.size() == 1) {
            Path f = dir.resolve(SINGLE_FILE);
            SafetensorsWriter.write(f, metadata, shards.get(0));
            files.add(f);
            return files;
        }
        long total = 0;
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = shardName(i, shards.size());
            Path f = dir.resolve(name);
            SafetensorsWriter.write(f, metadata, shards.get(i));
            files.add(f);
            for (SafetensorsWriter.Entry e : shards.get(i)) {
                weightMap.put(e.name(), name);
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
}
