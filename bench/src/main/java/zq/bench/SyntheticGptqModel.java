package zq.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.OutputFolder;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.TensorData;
import zq.formats.HalfFloats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A GPTQ Int4 checkpoint of a dense one's shape with random codes, for speed measurements only (the values
 * mean nothing): every Linear becomes qweight/qzeros/scales/g_idx of the AutoGPTQ layout, the other tensors
 * are copied byte for byte. Generating codes is far cheaper than quantizing, and reads the same bytes.
 */
final class SyntheticGptqModel {
    private SyntheticGptqModel() {}

    /** @param actOrder g_idx a random permutation of groups (desc_act) rather than k / groupSize */
    static Path write(Path dense, Path dir, int groupSize, boolean actOrder, long seed) throws IOException {
        try (Checkpoint ck = Checkpoint.open(dense); OutputFolder out = OutputFolder.create(dir)) {
            Map<String, LinearRef> linears = new HashMap<>();
            for (LayerLayout l : ck.layout().layers()) for (LinearRef r : l.linears()) linears.put(r.weight(), r);
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            long s = seed;
            for (String name : ck.tensorNames()) {
                LinearRef r = linears.get(name);
                if (r == null) {
                    entries.add(new SafetensorsWriter.Entry(name, ck.info(name).dtype(), ck.info(name).shape(),
                            TensorData.copyOf(ck.fileOf(name), ck.info(name))));
                    continue;
                }
                int in = r.inFeatures(), o = r.outFeatures(), groups = (in + groupSize - 1) / groupSize;
                long tensorSeed = s++;
                entries.add(new SafetensorsWriter.Entry(r.qweight(), DType.I32, new long[]{in / 8, o}, randomInts((long) in / 8 * o, tensorSeed)));
                entries.add(new SafetensorsWriter.Entry(r.qzeros(), DType.I32, new long[]{groups, o / 8}, randomInts((long) groups * o / 8, tensorSeed + 1)));
                short[] scales = new short[groups * o];
                SplittableRandom sr = new SplittableRandom(tensorSeed + 2);
                for (int i = 0; i < scales.length; i++) scales[i] = HalfFloats.floatToF16((float) (0.01 * (0.5 + sr.nextDouble())));
                entries.add(new SafetensorsWriter.Entry(r.scales(), DType.F16, new long[]{groups, o}, TensorData.shorts(scales)));
                int[] gIdx = new int[in];
                for (int k = 0; k < in; k++) gIdx[k] = k / groupSize;
                if (actOrder) shuffle(gIdx, new SplittableRandom(tensorSeed + 3));
                entries.add(new SafetensorsWriter.Entry(r.gIdx(), DType.I32, new long[]{in}, TensorData.ints(gIdx)));
            }
            ShardedWriter.write(out.dir(), SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            ObjectNode cfg = ck.config().json().deepCopy();
            ObjectNode q = cfg.putObject("quantization_config");
            q.put("quant_method", "gptq").put("bits", 4).put("group_size", groupSize).put("desc_act", actOrder).put("sym", false)
                    .put("checkpoint_format", "gptq");
            ModelConfig.write(cfg, out.dir().resolve("config.json"));
            out.commit();
        }
        return dir;
    }

    private static TensorData randomInts(long count, long seed) {
        return channel -> {
            SplittableRandom r = new SplittableRandom(seed);
            ByteBuffer b = ByteBuffer.allocate(TensorData.CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (long done = 0; done < count; ) {
                int n = (int) Math.min(TensorData.CHUNK, count - done);
                b.clear();
                for (int i = 0; i < n; i++) b.putInt(r.nextInt());
                b.flip();
                TensorData.writeAll(channel, b);
                done += n;
            }
        };
    }

    private static void shuffle(int[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
