package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.gptq.GptqPart;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code zq dequantize}: a GPTQ checkpoint as a dense one. Each quantized Linear's qweight, qzeros,
 * scales and g_idx become one {@code .weight} dequantized by Int4Layout, the runtime's decoder (the same
 * code the runtime runs in flight); every other tensor, biases included, is carried over in the
 * target dtype. The config loses its quantization_config, quantize_config.json is not copied.
 */
public final class GptqToDense {
    private GptqToDense() {}

    /**
     * @param dtype null: the config's torch_dtype when it is bf16, f16 or f32, else f16
     */
    public static ConvertResult dequantize(Path gptqDir, Path outDir, DType dtype, long maxShardBytes, boolean allowOverflow)
            throws IOException {
        return dequantize(gptqDir, outDir, dtype, maxShardBytes, allowOverflow, DequantizedLinear.TILE_VALUES);
    }

    /** {@code tileValues}: dense values produced at once per Linear (memory use, not results). */
    static ConvertResult dequantize(Path gptqDir, Path outDir, DType dtype, long maxShardBytes, boolean allowOverflow,
                                    int tileValues) throws IOException {
        if (dtype != null && !FloatConversion.isTarget(dtype)) {
            throw new IllegalArgumentException("--dtype " + dtype.torchName() + " is not supported (bf16, f16 or f32)");
        }
        try (Checkpoint in = Checkpoint.open(gptqDir)) {
            ModelConfig cfg = in.config();
            if (!cfg.isQuantized()) {
                throw new CheckpointException(cfg.source() + ": not a GPTQ checkpoint (no quantization_config, no "
                        + ModelConfig.QUANTIZE_CONFIG + ")");
            }
            DType target = dtype != null ? dtype : defaultDtype(cfg);
            ObjectNode json = cfg.json();
            json.remove("quantization_config");
            ConfigRewriter.setDtype(json, target);
            Map<String, LinearRef> byQweight = new HashMap<>();
            Set<String> packed = new HashSet<>();
            for (LayerLayout l : in.layout().layers()) {
                for (LinearRef lin : l.linears()) {
                    byQweight.put(lin.qweight(), lin);
                    for (GptqPart p : GptqPart.values()) if (p != GptqPart.QWEIGHT) packed.add(lin.part(p));
                }
            }
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String name : in.tensorNames()) {
                LinearRef lin = byQweight.get(name);
                if (lin != null) {
                    entries.add(new SafetensorsWriter.Entry(lin.weight(), target, new long[]{lin.outFeatures(), lin.inFeatures()},
                            new DequantizedLinear(in, lin, target, allowOverflow, tileValues)));
                } else if (!packed.contains(name) && !Checkpoint.isRotaryCache(name)) {
                    TensorRef t = TensorRef.of(in, name);
                    PlannedTensor p = new PlannedTensor(name, t.info().shape(), Gather.whole(t), false);
                    DType dt = p.outputDtype(target);
                    entries.add(new SafetensorsWriter.Entry(name, dt, p.shape(), new GatherData(p.gather(), dt, allowOverflow)));
                }
            }
            return CheckpointConverter.write(gptqDir, outDir, json, SafetensorsWriter.defaultMetadata(), entries, maxShardBytes, true, null, null);
        }
    }

    private static DType defaultDtype(ModelConfig cfg) {
        return switch (cfg.torchDtype()) {
            case "bfloat16" -> DType.BF16;
            case "float32" -> DType.F32;
            default -> DType.F16;
        };
    }
}
