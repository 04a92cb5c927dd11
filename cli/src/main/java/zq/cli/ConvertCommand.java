package zq.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import zq.convert.CheckpointConverter;
import zq.convert.ConvertOptions;
import zq.convert.ConvertResult;
import zq.convert.RopeScalingOption;
import zq.formats.ByteSize;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.gguf.GgmlType;
import zq.convert.gguf.GgufExporter;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code zq convert}: RoPE, context length, dtype, sharding and Zhinao ⇄ Qwen2 in one streaming pass. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Rewrite a checkpoint (dense or GPTQ) with any combination of changes in one pass. Tensors that "
                + "nothing changes are copied byte for byte; tokenizer, generation and other companion files are "
                + "copied; OUT_DIR appears only when complete.",
                "Checked on the way: every floating-point value, converted or copied, is finite (NaN or infinity is exit 2), "
                        + "and every g_idx entry names one of its Linear's scale groups. Copied unchecked: qweight and qzeros "
                        + "(packed 4-bit codes, where every bit pattern is valid) and other integer tensors."})
public final class ConvertCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "Model folder: config.json and safetensors weights.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT_DIR", description = "New folder to write (must not exist: an existing folder, even empty, or a link is refused).")
    Path output;

    @Option(names = "--rope-base", paramLabel = "X", description = "Set rope_theta (e.g. 1e6 or 5e7 for Zhinao's 32K/360K models).")
    Double ropeBase;

    @Option(names = "--max-position-embeddings", paramLabel = "N", description = "Set max_position_embeddings.")
    Integer maxPositionEmbeddings;

    @Option(names = "--rope-scaling", paramLabel = "TYPE:factor=F[,key=value...]",
            description = "Write a rope_scaling block: linear, dynamic, yarn or llama3 with the keys each requires, e.g. "
                    + "yarn:factor=4,original_max_position_embeddings=32768 or "
                    + "llama3:factor=8,low_freq_factor=1,high_freq_factor=4,original_max_position_embeddings=8192.")
    String ropeScaling;

    @Option(names = "--no-rope-scaling", description = "Write rope_scaling: null.")
    boolean noRopeScaling;

    @Option(names = "--dtype", paramLabel = "bf16|f16|f32",
            description = "Convert floating-point tensors (round to nearest even); torch_dtype follows. GPTQ: only tensors"
                    + " outside the quantized Linears change; qweight/qzeros/g_idx and the fp16 scales and biases "
                    + "AutoGPTQ expects keep their dtype.")
    String dtype;

    @Option(names = "--allow-overflow", description = "Write values beyond the target dtype's range as infinity instead of failing.")
    boolean allowOverflow;

    @Option(names = "--to", paramLabel = "qwen2|zhinao|gguf",
            description = "Zhinao -> Qwen2ForCausalLM (split qkv_proj; no remote code), or Qwen2 -> Zhinao (the exact "
                    + "inverse); gguf: one llama.cpp file OUT.gguf (dense: --dtype f32|f16|bf16|q8_0, or q4_0|q4_1 by "
                    + "llama.cpp's round-to-nearest; GPTQ: Q4_0 when sym, Q4_1 when not, from the GPTQ codes).")
    String to;

    @Option(names = "--max-shard-size", paramLabel = "SIZE", defaultValue = "5GB",
            description = "Largest weight file (HF naming and index); a larger tensor gets its own shard. Default: "
                    + "${DEFAULT-VALUE}.")
    String maxShardSize;

    @Override public Integer call() throws Exception {
        if ("gguf".equalsIgnoreCase(to)) return gguf();
        ConvertOptions o = ConvertOptions.none().withMaxShardBytes(ByteSize.parse("--max-shard-size", maxShardSize)).withAllowOverflow(allowOverflow);
        if (ropeBase != null) o = o.withRopeBase(ropeBase);
        if (maxPositionEmbeddings != null) o = o.withMaxPositionEmbeddings(maxPositionEmbeddings);
        if (ropeScaling != null) o = o.withRopeScaling(RopeScalingOption.parse(ropeScaling));
        if (noRopeScaling) o = o.withoutRopeScaling();
        if (dtype != null) o = o.withDtype(DType.fromUserName(dtype));
        if (to != null) o = o.withTarget(architecture(to));
        ConvertResult r = CheckpointConverter.convert(model, output, o);
        spec.commandLine().getOut().println(summary(r));
        if (r.tokenizer() != null) spec.commandLine().getOut().println("  " + r.tokenizer());
        return 0;
    }

    private int gguf() throws java.io.IOException {
        if (ropeBase != null || maxPositionEmbeddings != null || ropeScaling != null || noRopeScaling || allowOverflow) {
            throw new IllegalArgumentException("--to gguf writes the checkpoint as it is; convert RoPE or context length first, then export");
        }
        GgmlType type = dtype == null ? null : GgufTypes.parse(dtype);
        var err = spec.commandLine().getErr();
        GgufExporter.Result r = GgufExporter.export(model, output, type, line -> {
            err.println("zq: " + line);
            err.flush();
        });
        spec.commandLine().getOut().println(ggufSummary(r));
        return 0;
    }

    static String ggufSummary(GgufExporter.Result r) {
        String note = r.unreachableTokens() == 0 ? "" : String.format("; %d vocabulary tokens no merge builds (llama.cpp's BPE never "
                + "produces them)", r.unreachableTokens());
        return String.format("wrote %s: GGUF %s, Linears %s, %d tensors, %.2f MB, %d tokens%s", r.output(), r.architecture(),
                r.linearType(), r.tensors(), r.bytes() / 1e6, r.vocabulary(), note);
    }

    private static Architecture architecture(String name) {
        Architecture a = Architecture.fromModelType(name);
        if (a == null) throw new IllegalArgumentException("--to '" + name + "' is not an architecture (qwen2 or zhinao) or gguf");
        return a;
    }

    static String summary(ConvertResult r) {
        return String.format("wrote %s: %d tensors, %.2f GB in %d weight file%s", r.output(), r.tensors(),
                r.tensorBytes() / 1e9, r.weightFiles(), r.weightFiles() == 1 ? "" : "s");
    }
}
