package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.OutputFolder;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.SyntheticModel;
import zq.formats.TensorData;
import zq.formats.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test checkpoints written by hand: every tensor the config implies, seeded random, with chosen
 * tensors overridden. For a config with a quantization_config it writes a GPTQ checkpoint as
 * docs/gptq.md ("The AutoGPTQ layout") lays it out: random int32 qweight and qzeros, positive fp16 scales, g_idx = k / group.
 */
final class TinyCheckpoint {
    private TinyCheckpoint() {}

    static ObjectNode zhinao(int hidden, int heads, int kvHeads) {
        return SyntheticModel.config(Architecture.ZHINAO, hidden, 2 * hidden, 2, heads, kvHeads, 40);
    }

    static ObjectNode gptq(ObjectNode config, int groupSize) {
        ObjectNode q = config.putObject("quantization_config");
        q.put("bits", 4);
        q.put("group_size", groupSize);
        q.put("desc_act", false);
        q.put("sym", true);
        q.put("quant_method", "gptq");
        q.put("checkpoint_format", "gptq");
        config.put("torch_dtype", "float16");
        return config;
    }

    static Path write(Path dir, ObjectNode config, DType floatType, long seed, Map<String, float[]> overrides) throws IOException {
        ModelConfig c = ModelConfig.of(config, dir.resolve("config.json"));
        int group = c.isQuantized() ? c.quantization().groupSize() : 0;
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        for (Map.Entry<String, long[]> e : ModelLayout.of(c).expectedTensors().entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            int n = (int) numel(shape);
            if (name.endsWith(".qweight") || name.endsWith(".qzeros")) {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) v[i] = r.nextInt();
                entries.add(new SafetensorsWriter.Entry(name, DType.I32, shape, TensorData.ints(v)));
            } else if (name.endsWith(".g_idx")) {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) v[i] = group <= 0 ? 0 : i / group;
                entries.add(new SafetensorsWriter.Entry(name, DType.I32, shape, TensorData.ints(v)));
            } else {
                float[] v = overrides.get(name);
                if (v == null) {
                    v = new float[n];
                    boolean scales = name.endsWith(".scales");
                    for (int i = 0; i < n; i++) v[i] = scales ? 0.001f + 0.01f * (float) r.nextDouble() : (float) (r.nextDouble() - 0.5);
                }
                DType dt = c.isQuantized() && (name.endsWith(".scales") || name.contains("_proj.bias")) ? DType.F16 : floatType;
                entries.add(new SafetensorsWriter.Entry(name, dt, shape, TensorData.floats(v, dt)));
            }
        }
        try (OutputFolder out = OutputFolder.create(dir)) {
            ShardedWriter.write(out.dir(), SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            ModelConfig.write(config, out.dir().resolve("config.json"));
            out.commit();
        }
        return dir;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** The raw bytes of a tensor as stored on disk. */
    static byte[] bytes(Checkpoint c, String name) {
        TensorInfo t = c.info(name);
        ByteBuffer b = c.fileOf(name).map(t);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Little-endian int32 element {@code i} of a byte array. */
    static int int32(byte[] b, int i) {
        return (b[4 * i] & 0xFF) | (b[4 * i + 1] & 0xFF) << 8 | (b[4 * i + 2] & 0xFF) << 16 | (b[4 * i + 3] & 0xFF) << 24;
    }

    static int uint16(byte[] b, int i) { return (b[2 * i] & 0xFF) | (b[2 * i + 1] & 0xFF) << 8; }
}
