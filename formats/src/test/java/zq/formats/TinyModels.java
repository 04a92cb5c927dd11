package zq.formats;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Test checkpoints whose tensors a test can drop, replace or reshape before writing. */
final class TinyModels {
    private TinyModels() {}

    /** Every tensor {@code config} implies, dense floats of 0.5 or, for GPTQ's packed tensors, I32 zeros. */
    static List<SafetensorsWriter.Entry> entries(ObjectNode config, DType floatType) {
        ModelConfig c = ModelConfig.of(config, Path.of("config.json"));
        List<SafetensorsWriter.Entry> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : ModelLayout.of(c).expectedTensors().entrySet()) {
            String n = e.getKey();
            boolean packed = n.endsWith(".qweight") || n.endsWith(".qzeros") || n.endsWith(".g_idx");
            out.add(packed ? ints(n, e.getValue()) : floats(n, floatType, e.getValue(), 0.5f));
        }
        return out;
    }

    static SafetensorsWriter.Entry floats(String name, DType dtype, long[] shape, float value) {
        float[] v = new float[(int) numel(shape)];
        java.util.Arrays.fill(v, value);
        return new SafetensorsWriter.Entry(name, dtype, shape, TensorData.floats(v, dtype));
    }

    static SafetensorsWriter.Entry ints(String name, long[] shape) {
        return new SafetensorsWriter.Entry(name, DType.I32, shape, TensorData.ints(new int[(int) numel(shape)]));
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Writes config.json and the entries (sharded at {@code maxShardBytes}) into a new folder {@code dir}. */
    static Path write(Path dir, ObjectNode config, List<SafetensorsWriter.Entry> entries, long maxShardBytes) throws IOException {
        Files.createDirectories(dir);
        ModelConfig.write(config, dir.resolve("config.json"));
        ShardedWriter.write(dir, SafetensorsWriter.defaultMetadata(), entries, maxShardBytes);
        return dir;
    }

    static List<SafetensorsWriter.Entry> without(List<SafetensorsWriter.Entry> entries, String name) {
        List<SafetensorsWriter.Entry> out = new ArrayList<>(entries);
        if (!out.removeIf(e -> e.name().equals(name))) throw new IllegalArgumentException("no tensor " + name);
        return out;
    }

    static List<SafetensorsWriter.Entry> replaced(List<SafetensorsWriter.Entry> entries, SafetensorsWriter.Entry by) {
        List<SafetensorsWriter.Entry> out = new ArrayList<>();
        for (SafetensorsWriter.Entry e : entries) out.add(e.name().equals(by.name()) ? by : e);
        return out;
    }
}
