package zq.formats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a state dict as Hugging Face does: one {@code model.safetensors} when it fits in one shard,
 * otherwise {@code model-00001-of-0000N.safetensors} files plus {@code model.safetensors.index.json}.
 * Shards are filled greedily in the given order; a tensor larger than the limit gets a shard of its own.
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
            if (!current.isEmpty() && size + b > maxShardBytes) {
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

    /** Writes the shards (and index if more than one) into {@code dir}; returns the files written. */
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
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode index = json.createObjectNode();
        long total = 0;
        ObjectNode map = json.createObjectNode();
        for (int i = 0; i < shards.size(); i++) {
            String name = shardName(i, shards.size());
            Path f = dir.resolve(name);
            SafetensorsWriter.write(f, metadata, shards.get(i));
            files.add(f);
            for (SafetensorsWriter.Entry e : shards.get(i)) {
                map.put(e.name(), name);
                total += e.byteSize();
            }
        }
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", map);
        Path idx = dir.resolve(INDEX_FILE);
        Files.writeString(idx, json.writeValueAsString(index) + "\n");
        files.add(idx);
        return files;
    }
}
