package zq.gptq.export;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import zq.formats.CompanionFiles;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.HfJson;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.OutputFolder;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.TensorData;
import zq.formats.gptq.GptqPart;
import zq.formats.gptq.PackedLinear;
import zq.gptq.GptqConfig;
import zq.gptq.pipeline.Phase;
import zq.gptq.pipeline.PhaseTimes;
import zq.gptq.pipeline.PeakMemory;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.ModuleReport;
import zq.gptq.pipeline.ProgressListener;
import zq.gptq.pipeline.QuantizationPipeline;
import zq.gptq.pipeline.QuantizedLayer;

/**
 * Quantises a dense model folder into an AutoGPTQ-layout GPTQ Int4 folder (docs/gptq.md, "The AutoGPTQ layout" and "Files and configs") that loads in transformers,
 * vLLM (Marlin when sym, 4 bit and group size −1/32/64/128) and, for checkpoint_format "gptq", AutoGPTQ:
 * <ul>
 *   <li>every Linear inside the decoder layers as {@code qweight} int32 [in/8, out], {@code qzeros} int32 [G, out/8]
 *       (v1: zero−1, so 0x77777777 when sym), {@code scales} fp16 [G, out], {@code g_idx} int32 [in] (always written);</li>
 *   <li>embeddings, norms, lm_head and biases as fp16;</li>
 *   <li>{@code model.safetensors}, or HF shards plus {@code model.safetensors.index.json}, with "format": "pt";</li>
 *   <li>the same quantization dict in {@code quantize_config.json} and config.json (whose torch_dtype becomes float16);</li>
 *   <li>tokenizer, generation and remote-code files copied ({@link CompanionFiles}).</li>
 * </ul>
 *
 * <p>Streaming: all output sizes follow from the config, so the whole tensor list (and the shard plan) is fixed
 * before any work and the writer is opened with it. {@link #run} then quantises layer i and puts its tensors before
 * it starts layer i+1, so a finished layer's packed tensors are dropped as soon as they are written. Peak memory is
 * one layer's weights plus the calibration activations, whatever the depth. Everything is written inside an
 * {@link OutputFolder}: the target folder appears only after the last file is complete; an error or SIGTERM removes
 * the hidden ".NAME.partial-*" folder, and after SIGKILL that folder may remain but never carries the target's name.
 */
public final class GptqExporter {
    /** Group sizes vLLM's Marlin kernels accept (docs/gptq.md, "Files and configs"). */
    private static final Set<Integer> MARLIN_GROUP_SIZES = Set.of(-1, 32, 64, 128);

    private GptqExporter() {}

    /** Loader-compatibility notes for these settings, known before any work. */
    public static List<String> warnings(PipelineOptions options) {
        GptqConfig c = options.gptq();
        List<String> w = new ArrayList<>();
        if (!c.sym()) {
            w.add("asymmetric quantization (--no-sym) is written as checkpoint_format gptq_v2, because AutoGPTQ's v1 layout "
                    + "stores zero-1 and cannot hold a zero point of 0 exactly. Loaders that read gptq_v2: GPTQModel, and vLLM "
                    + "releases that handle checkpoint_format gptq_v2 (with its gptq kernel; Marlin needs sym). AutoGPTQ will NOT "
                    + "load this checkpoint (it refuses gptq_v2); older vLLM releases ignore checkpoint_format and read the zeros "
                    + "as v1, off by one, silently");
        }
        if (!MARLIN_GROUP_SIZES.contains(c.groupSize())) {
            w.add("group size " + c.groupSize() + " is not one of vLLM Marlin's -1, 32, 64, 128; vLLM falls back to its slower gptq kernel");
        }
        return w;
    }

    /**
     * Runs the whole quantisation and writes the output folder, in file order: the embedding, then for each decoder
     * layer its quantisation and its tensors, then the final norm and the head.
     */
    public static QuantizeResult run(QuantizeRequest request, ProgressListener listener) throws IOException {
        return run(request, listener, r -> { });
    }

    /** Work that must be complete before the output folder appears (a report file); a failure discards the output. */
    public interface BeforeCommit {
        void accept(QuantizeResult result) throws IOException;
    }

    /** As {@link #run(QuantizeRequest, ProgressListener)}, calling {@code beforeCommit} just before the folder is renamed into place. */
    public static QuantizeResult run(QuantizeRequest request, ProgressListener listener, BeforeCommit beforeCommit) throws IOException {
        long t0 = System.nanoTime();
        PhaseTimes times = new PhaseTimes();
        try (Checkpoint input = Checkpoint.open(request.input());
             QuantizationPipeline pipeline = new QuantizationPipeline(input, request.options(), request.calibration(), listener, times)) {
            ObjectNode quantization = QuantizeConfigJson.of(request.options());
            ObjectNode config = outputConfig(input.config(), quantization);
            ModelLayout layout = ModelLayout.of(ModelConfig.of(config, request.output().resolve("config.json")));
            if (request.calibration() != null) listener.planned(pipeline.estimate());
            List<ModuleReport> modules = new ArrayList<>();
            List<Double> layerSeconds = new ArrayList<>();
            List<String> weightFiles = new ArrayList<>();
            List<String> companions;
            try (OutputFolder out = OutputFolder.create(request.output());
                 ShardedWriter writer = ShardedWriter.open(out.dir(), metadata(request.options()), plan(layout),
                         request.maxShardBytes())) {
                TensorSink sink = new TensorSink(writer, times);
                sink.put(layout.embedTokens(), Fp16Tensor.of(input, layout.embedTokens()));
                for (LayerLayout l : layout.layers()) {
                    QuantizedLayer q = pipeline.next();
                    modules.addAll(q.modules());
                    layerSeconds.add(q.seconds());
                    sink.put(l.inputNorm(), Fp16Tensor.of(input, l.inputNorm()));
                    for (LinearRef ref : l.linears()) {
                        PackedLinear p = q.linear(ref.prefix());
                        for (GptqPart part : GptqPart.values()) sink.put(ref.part(part), data(part, p));
                        if (ref.hasBias()) sink.put(ref.bias(), Fp16Tensor.of(input, ref.bias()));
                    }
                    sink.put(l.postAttentionNorm(), Fp16Tensor.of(input, l.postAttentionNorm()));
                }
                sink.put(layout.finalNorm(), Fp16Tensor.of(input, layout.finalNorm()));
                if (layout.lmHead() != null) sink.put(layout.lmHead(), Fp16Tensor.of(input, layout.lmHead()));
                try (var t = times.time(Phase.WRITE)) {
                    for (Path f : writer.finish()) weightFiles.add(f.getFileName().toString());
                    ModelConfig.write(config, out.dir().resolve("config.json"));
                    Files.writeString(out.dir().resolve(ModelConfig.QUANTIZE_CONFIG), HfJson.pretty(quantization));
                    companions = CompanionFiles.copy(request.input(), out.dir());
                }
                QuantizeResult result = new QuantizeResult(request.output().toAbsolutePath().normalize(), request.options(),
                        request.calibration(), input.config().numLayers(), modules, layerSeconds, times.asSeconds(),
                        (System.nanoTime() - t0) / 1e9, PeakMemory.peakHeapBytes(), PeakMemory.peakRssBytes(), weightFiles,
                        companions, warnings(request.options()), pipeline.forwardsPerLayer());
                beforeCommit.accept(result);
                out.commit();
                return result;
            }
        }
    }

    /** Puts tensors into the writer, timing each as writing (converting unquantised tensors to fp16 included). */
    private record TensorSink(ShardedWriter writer, PhaseTimes times) {
        void put(String name, TensorData data) throws IOException {
            try (var t = times.time(Phase.WRITE)) {
                writer.put(name, data);
            }
        }
    }

    /** The input's config.json with fp16 as its dtype and the quantization dict added. */
    static ObjectNode outputConfig(ModelConfig input, ObjectNode quantization) {
        ObjectNode json = input.json();
        json.put("torch_dtype", "float16");
        if (json.has("dtype")) json.put("dtype", "float16"); // transformers v5's name for the same field
        json.set("quantization_config", quantization.deepCopy());
        return json;
    }

    /** "format": "pt" (transformers requires it) plus AutoGPTQ's informational gptq_* strings. */
    static Map<String, String> metadata(PipelineOptions options) {
        ObjectNode q = QuantizeConfigJson.of(options);
        Map<String, String> m = new LinkedHashMap<>(SafetensorsWriter.defaultMetadata());
        m.put("gptq_quantizer", QuantizeConfigJson.PRODUCER);
        m.put("gptq_method", options.method().methodName());
        for (String key : QuantizeConfigJson.METADATA) m.put("gptq_" + key, q.get(key).asText());
        return m;
    }

    /** The data of one of the four packed tensors of a quantised Linear. */
    private static TensorData data(GptqPart part, PackedLinear p) {
        return switch (part) {
            case QWEIGHT -> TensorData.ints(p.qweight());
            case QZEROS -> TensorData.ints(p.qzeros());
            case SCALES -> TensorData.shorts(p.scales());
            case G_IDX -> TensorData.ints(p.gIdx());
        };
    }

    /**
     * Every tensor of the output in the order the GPTQ layout lists them (layer by layer), with the shapes it implies:
     * the packed parts of each Linear, everything else the input's tensor as fp16. {@link #run} puts them in this order;
     * the writer refuses any other.
     */
    private static List<SafetensorsWriter.Planned> plan(ModelLayout layout) {
        Map<String, DType> packed = new HashMap<>();
        for (LayerLayout l : layout.layers()) {
            for (LinearRef ref : l.linears()) {
                for (GptqPart part : GptqPart.values()) packed.put(ref.part(part), part.dtype());
            }
        }
        List<SafetensorsWriter.Planned> plan = new ArrayList<>();
        for (Map.Entry<String, long[]> e : layout.expectedTensors().entrySet()) {
            plan.add(new SafetensorsWriter.Planned(e.getKey(), packed.getOrDefault(e.getKey(), DType.F16), e.getValue()));
        }
        return plan;
    }
}
