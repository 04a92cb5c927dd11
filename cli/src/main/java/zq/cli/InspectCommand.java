package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import zq.formats.Checkpoint;
import zq.formats.CheckpointStats;
import zq.formats.CheckpointValues;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.QuantizationConfig;
import zq.formats.RemoteCode;
import zq.formats.RopeScaling;
import zq.formats.SafetensorsFile;
import zq.formats.TensorInfo;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code zq inspect MODEL_DIR}: what a model folder holds, after checking that its tensors are
 * exactly what its config implies (a missing or misshapen tensor is reported by name, exit 2).
 *
 * <p>Parameters are those of the dense model: for GPTQ checkpoints the dense-equivalent count (each
 * 4-bit Linear counted as out × in), with the elements actually stored reported beside it.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe a model folder: architecture, shapes, RoPE, dtypes, parameters, shards, quantization,",
                "and whether it needs remote code (trust_remote_code) and which files ask for it;",
                "or a GGUF file: metadata, tensor table, types and parameter count.",
                "Fails (exit 2) naming the tensor if any tensor the config implies is missing or has the wrong shape, if any "
                        + "floating-point value is NaN or infinite, or if a GPTQ g_idx names a group its scales lack "
                        + "(--no-values skips reading the values)."})
public final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL_DIR|FILE.gguf", description = "Folder with config.json and safetensors weights, or a GGUF file.")
    Path model;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--tensors", description = "Also list every tensor: name, dtype, shape, shard.")
    boolean tensors;

    @Option(names = "--no-values", description = "Check headers and shapes only; do not read every value (NaN/Inf, g_idx range).")
    boolean noValues;

    @Spec CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Override public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (java.nio.file.Files.isRegularFile(model)) {
            GgufInspection.print(model, json, tensors, out);
            out.flush();
            return 0;
        }
        try (Checkpoint c = Checkpoint.open(model)) {
            if (!noValues) CheckpointValues.checkAll(c);
            CheckpointStats stats = CheckpointStats.of(c);
            if (json) {
                out.println(JSON.writeValueAsString(report(c, stats)));
            } else {
                printText(c, stats, out);
            }
        }
        out.flush();
        return 0;
    }

    private ObjectNode report(Checkpoint c, CheckpointStats stats) {
        ModelConfig cfg = c.config();
        ObjectNode r = JSON.createObjectNode();
        r.put("model", c.dir().toString());
        r.put("architecture", cfg.architecture().modelType());
        r.put("hf_class", cfg.architecture().hfClass());
        r.put("num_hidden_layers", cfg.numLayers());
        r.put("hidden_size", cfg.hiddenSize());
        r.put("num_attention_heads", cfg.numHeads());
        r.put("num_key_value_heads", cfg.numKvHeads());
        r.put("head_dim", cfg.headDim());
        r.put("intermediate_size", cfg.intermediateSize());
        r.put("vocab_size", cfg.vocabSize());
        r.put("rope_theta", cfg.ropeTheta());
        if (cfg.ropeScaling() == null) r.putNull("rope_scaling");
        else r.set("rope_scaling", cfg.ropeScaling().raw());
        r.put("max_position_embeddings", cfg.maxPositionEmbeddings());
        r.put("tie_word_embeddings", cfg.tieWordEmbeddings());
        r.put("torch_dtype", cfg.torchDtype());
        r.put("tensor_count", stats.tensors());
        r.put("parameters", stats.parameters());
        r.put("parameters_counted_as", cfg.isQuantized() ? "dense-equivalent" : "dense");
        r.put("stored_elements", stats.storedElements());
        r.put("bytes", stats.bytes());
        ObjectNode dtypes = r.putObject("dtypes");
        for (Map.Entry<DType, CheckpointStats.Tally> e : stats.byDtype().entrySet()) {
            dtypes.putObject(e.getKey().safetensorsName()).put("tensors", e.getValue().tensors())
                    .put("elements", e.getValue().elements()).put("bytes", e.getValue().bytes());
        }
        ArrayNode shards = r.putArray("shards");
        for (SafetensorsFile f : c.files()) shards.add(f.path().getFileName().toString());
        QuantizationConfig q = cfg.quantization();
        if (q == null) r.putNull("quantization");
        else r.set("quantization", q.raw());
        List<RemoteCode.Request> remote = RemoteCode.requests(c.dir());
        ObjectNode rc = r.putObject("remote_code");
        rc.put("needed", !remote.isEmpty());
        ArrayNode requests = rc.putArray("requests");
        for (RemoteCode.Request q2 : remote) {
            requests.addObject().put("file", q2.file()).put("key", q2.key()).put("reference", q2.reference())
                    .put("module_present", q2.modulePresent());
        }
        if (tensors) {
            ArrayNode list = r.putArray("tensors");
            for (String name : c.tensorNames()) {
                TensorInfo t = c.info(name);
                ObjectNode o = list.addObject().put("name", name).put("dtype", t.dtype().safetensorsName());
                ArrayNode shape = o.putArray("shape");
                for (long d : t.shape()) shape.add(d);
                o.put("shard", c.fileOf(name).path().getFileName().toString());
            }
        }
        return r;
    }

    private void printText(Checkpoint c, CheckpointStats stats, PrintWriter out) {
        ModelConfig cfg = c.config();
        line(out, "Model", c.dir().toString());
        line(out, "Architecture", cfg.architecture().modelType() + " (" + cfg.architecture().hfClass() + ")");
        line(out, "Layers", num(cfg.numLayers()));
        line(out, "Hidden", num(cfg.hiddenSize()));
        line(out, "Heads", cfg.numHeads() + " query, " + cfg.numKvHeads() + " KV (" + attentionKind(cfg) + "), head_dim " + cfg.headDim());
        line(out, "Intermediate", num(cfg.intermediateSize()));
        line(out, "Vocabulary", num(cfg.vocabSize()));
        line(out, "RoPE", "theta " + plain(cfg.ropeTheta()) + ", " + scaling(cfg.ropeScaling()));
        line(out, "Max positions", num(cfg.maxPositionEmbeddings()));
        line(out, "Embeddings", cfg.tieWordEmbeddings() ? "tied (lm_head = embed_tokens)" : "untied");
        boolean first = true;
        for (Map.Entry<DType, CheckpointStats.Tally> e : stats.byDtype().entrySet()) {
            CheckpointStats.Tally t = e.getValue();
            line(out, first ? "Dtypes" : "", String.format(Locale.ROOT, "%-5s %s tensors, %s elements, %s bytes",
                    e.getKey().safetensorsName(), num(t.tensors()), num(t.elements()), num(t.bytes())));
            first = false;
        }
        line(out, "Tensors", num(stats.tensors()));
        if (cfg.isQuantized()) {
            line(out, "Parameters", num(stats.parameters()) + " dense-equivalent (each GPTQ Linear counted as out x in); "
                    + num(stats.storedElements()) + " elements stored");
        } else {
            line(out, "Parameters", num(stats.parameters()));
        }
        line(out, "Bytes", num(stats.bytes()) + " (" + decimalSize(stats.bytes()) + ")");
        List<String> shards = c.files().stream().map(f -> f.path().getFileName().toString()).toList();
        line(out, "Shards", shards.size() + ": " + (shards.size() <= 3 ? String.join(", ", shards)
                : shards.get(0) + " ... " + shards.get(shards.size() - 1)));
        QuantizationConfig q = cfg.quantization();
        line(out, "Quantization", q == null ? "none" : String.format(Locale.ROOT,
                "GPTQ %d-bit, group_size %d, desc_act %s, sym %s, checkpoint_format %s",
                q.bits(), q.groupSize(), q.descAct(), q.sym(), q.checkpointFormat()));
        List<RemoteCode.Request> remote = RemoteCode.requests(c.dir());
        if (remote.isEmpty()) {
            line(out, "Remote code", "not needed (no file asks for it)");
        } else {
            line(out, "Remote code", "needed (trust_remote_code), asked for by:");
            for (RemoteCode.Request request : remote) line(out, "", request.toString());
        }
        if (tensors) {
            out.println();
            int width = c.tensorNames().stream().mapToInt(String::length).max().orElse(0);
            for (String name : c.tensorNames()) {
                TensorInfo t = c.info(name);
                out.printf(Locale.ROOT, "%-" + width + "s  %-5s %-16s %s%n", name, t.dtype().safetensorsName(),
                        Arrays.toString(t.shape()), c.fileOf(name).path().getFileName());
            }
        }
    }

    private static String attentionKind(ModelConfig cfg) {
        if (cfg.numKvHeads() == cfg.numHeads()) return "MHA";
        if (cfg.numKvHeads() == 1) return "MQA";
        return "GQA, " + cfg.queryHeadsPerKvHead() + " query heads per KV head";
    }

    private static String scaling(RopeScaling s) {
        if (s == null) return "no scaling";
        StringBuilder b = new StringBuilder("scaling " + s.type() + " factor " + plain(s.factor()));
        s.raw().fields().forEachRemaining(e -> {
            String k = e.getKey();
            if (!k.equals("type") && !k.equals("rope_type") && !k.equals("factor") && !k.equals("rope_theta")) {
                b.append(", ").append(k).append(' ').append(e.getValue());
            }
        });
        return b.toString();
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf(Locale.ROOT, "%-14s %s%n", label, value);
    }

    /** Bytes in decimal units, as Hugging Face lists file sizes: 15.55 GB, 166 kB. */
    private static String decimalSize(long bytes) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.2f %s", v, units[u]);
    }

    private static String num(long v) { return String.format(Locale.ROOT, "%,d", v); }

    /** 10000.0 as 10000, 1e6 as 1000000, 0.5 as 0.5. */
    private static String plain(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
