package zq.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import zq.convert.GptqToDense;
import zq.formats.ByteSize;
import zq.formats.DType;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code zq dequantize}: a GPTQ checkpoint as a dense one, dequantized exactly as the runtime does in flight. */
@Command(name = "dequantize", mixinStandardHelpOptions = true,
        description = "Write a dense checkpoint from a GPTQ one: each quantized Linear becomes a .weight, the "
                + "quantization config is removed; tokenizer and other companion files are copied.")
public final class DequantizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "GPTQ_DIR", description = "GPTQ model folder.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT_DIR", description = "New folder to write (must not exist).")
    Path output;

    @Option(names = "--dtype", paramLabel = "bf16|f16|f32",
            description = "Dtype of every floating-point tensor. Default: the config's torch_dtype if bf16, f16 or f32, "
                    + "else f16.")
    String dtype;

    @Option(names = "--allow-overflow", description = "Write values beyond the target dtype's range as infinity instead of failing.")
    boolean allowOverflow;

    @Option(names = "--max-shard-size", paramLabel = "SIZE", defaultValue = "5GB",
            description = "Largest weight file (HF naming and index). Default: ${DEFAULT-VALUE}.")
    String maxShardSize;

    @Override public Integer call() throws Exception {
        DType d = dtype == null ? null : DType.fromUserName(dtype);
        var r = GptqToDense.dequantize(model, output, d, ByteSize.parse("--max-shard-size", maxShardSize), allowOverflow);
        spec.commandLine().getOut().println(ConvertCommand.summary(r));
        return 0;
    }
}
