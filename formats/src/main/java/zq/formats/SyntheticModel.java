package zq.formats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.SplittableRandom;

/**
 * Generates seeded random dense checkpoints of any supported architecture and size: fixtures for
 * tests and the models benchmarks run on (a 7B-width layer without downloading a 7B model).
 * Each tensor is generated while it is written, so even multi-GB models need little heap.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /** A minimal config.json for {@code arch}; callers adjust the returned node before writing. */
    public static ObjectNode config(Architecture arch, int hidden, int intermediate, int layers, int heads, int kvHeads,
                                    int vocab) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(arch.hfClass());
        c.put("model_type", arch.modelType());
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("vocab_size", vocab);
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", 4096);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.putNull("rope_scaling");
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "bfloat16");
        return c;
    }

    /**
     * Writes {@code config} and random weights of {@code dtype} into {@code dir} (which must not exist
     * or be empty). Linear weights are N(0, 1/in) so activations stay O(1) through the layers; norms
     * are near 1; biases small.
     */
    public static Path write(Path dir, ObjectNode config, DType dtype, long seed, long maxShardBytes) throws IOException {
        ModelConfig c = ModelConfig.of(config, dir.resolve("config.json"));
        ModelLayout layout = ModelLayout.of(c);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        long i = 0;
        for (Map.Entry<String, long[]> e : layout.expectedTensors().entrySet()) {
            long[] shape = e.getValue();
            long tensorSeed = seed * 1_000_003L + (i++);
            String name = e.getKey();
            float std = name.endsWith("norm.weight") ? 0.1f : name.endsWith(".bias") ? 0.05f
                    : (float) (1.0 / Math.sqrt(shape[shape.length - 1]));
            float mean = name.endsWith("norm.weight") ? 1f : 0f;
            entries.add(new SafetensorsWriter.Entry(name, dtype, shape, gaussian(shape, dtype, tensorSeed, mean, std)));
        }
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isEmpty()) Files.delete(dir); // OutputFolder refuses even an empty target; this one is ours
            }
        }
        try (OutputFolder out = OutputFolder.create(dir)) {
            ShardedWriter.write(out.dir(), SafetensorsWriter.defaultMetadata(), entries, maxShardBytes);
            ModelConfig.write(config, out.dir().resolve("config.json"));
            out.commit();
        }
        return dir;
    }

    public static Path write(Path dir, ObjectNode config, DType dtype, long seed) throws IOException {
        return write(dir, config, dtype, seed, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
    }

    private static TensorData gaussian(long[] shape, DType dtype, long seed, float mean, float std) {
        long n = 1;
        for (long d : shape) n *= d;
        final long total = n;
        return out -> {
            SplittableRandom r = new SplittableRandom(seed);
            float[] chunk = new float[TensorData.CHUNK];
            for (long start = 0; start < total; start += chunk.length) {
                int len = (int) Math.min(chunk.length, total - start);
                float[] part = len == chunk.length ? chunk : new float[len];
                for (int k = 0; k < len; k++) part[k] = mean + std * (float) nextGaussian(r);
                TensorData.floats(part, dtype).writeTo(out);
            }
        };
    }

    private static double nextGaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /** True when {@code dir} holds a config.json (handy for benchmarks that reuse a generated model). */
    public static boolean exists(Path dir) { return Files.isRegularFile(dir.resolve("config.json")); }
}
