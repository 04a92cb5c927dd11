package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code zq bench NAME [ARGS…]}: the benchmarks of each module, behind one command. Each prints its own
 * report with the baseline it is measured against (the sgemm rate, the disk) taken in the same run.
 * Arguments after NAME go to the benchmark unchanged; heap limits come from {@code ZQ_JAVA_OPTS}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks (not tests): speed and memory against a baseline measured in the same run.",
                "Arguments after the name go to the benchmark; set the heap with ZQ_JAVA_OPTS (e.g. -Xmx512m)."},
        subcommands = {BenchCommand.Read.class, BenchCommand.Tokenize.class, BenchCommand.Runtime.class,
                BenchCommand.Hessian.class, BenchCommand.Quantize.class, BenchCommand.Convert.class,
                BenchCommand.Decode.class, BenchCommand.Prefill.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    /** Passes every argument through, options included. */
    abstract static class PassThrough implements Callable<Integer> {
        @Parameters(paramLabel = "ARGS", arity = "0..*", description = "Arguments for the benchmark.")
        List<String> args = new ArrayList<>();

        abstract void main(String[] args) throws Exception;

        @Override public Integer call() throws Exception {
            main(args.toArray(String[]::new));
            return 0;
        }
    }

    @Command(name = "read", description = {"Write then read back a generated safetensors file tensor by tensor (a tensor over 2 GiB), "
            + "checksummed: MB/s. ARGS: [SIZE=3g] [FILE]. Run with ZQ_JAVA_OPTS=-Xmx512m."})
    static final class Read extends PassThrough {
        @Override void main(String[] a) throws Exception { zq.formats.ReadBenchmark.main(a); }
    }

    @Command(name = "tokenize", description = {"Tokenize generated mixed Chinese/English/code text: MB/s. "
            + "ARGS: MODEL_DIR_OR_TOKENIZER [MEGABYTES=10] [SEED=1]."})
    static final class Tokenize extends PassThrough {
        @Override void main(String[] a) { zq.formats.tokenizer.TokenizerBenchmark.main(a); }
    }

    @Command(name = "runtime", description = {"Perplexity prefill on a generated 7B-width model (hidden 4096, 32/8 heads, "
            + "intermediate 13056, vocab 32000): tokens/s and GFLOP/s against the sgemm rate of the same run. "
            + "ARGS: [--dir D] [--layers 2] [--seqlen 512] [--windows 8] [--runs 3]."})
    static final class Runtime extends PassThrough {
        @Override void main(String[] a) throws Exception { zq.validate.bench.PerplexityBenchmark.main(a); }
    }

    @Command(name = "hessian", description = {"Hessian accumulation (CPU BLAS and OpenCL) and GPTQ solve time for 7B-width "
            + "layer shapes: GFLOP/s against the sgemm rate of the same run. ARGS: see GptqBenchmark (--scale, --tokens, ...)."})
    static final class Hessian extends PassThrough {
        @Override void main(String[] a) { zq.gptq.bench.GptqBenchmark.main(a); }
    }

    @Command(name = "quantize", description = {"The whole quantize pipeline on generated 7B-width models of 1, 2 and 4 layers: "
            + "time per layer and peak RSS (flat in the layer count). ARGS: see PipelineBenchmark (--scale, --nsamples, --seqlen, ...)."})
    static final class Quantize extends PassThrough {
        @Override void main(String[] a) throws Exception { zq.gptq.bench.PipelineBenchmark.main(a); }
    }

    @Command(name = "convert", description = {"Convert a generated ~3 GB checkpoint (byte copy with --rope-base, --dtype f16, "
            + "--to qwen2): MB/s. ARGS: [WORK_DIR] [GIGABYTES=3] [--keep-model]. Run with ZQ_JAVA_OPTS=-Xmx512m."})
    static final class Convert extends PassThrough {
        @Override void main(String[] a) { zq.convert.ConvertBenchmark.main(a); }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true, description = {"Decode tokens/s at 7B width (generated models, "
            + "kept in --dir), BF16 and GPTQ Int4, each against the memory-bandwidth limit measured in the same run "
            + "(stored bytes per token / streaming-read bandwidth)."})
    static final class Decode implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--dir", paramLabel = "D", defaultValue = "${java.io.tmpdir}/zq-bench-decode", description = "Where the models go (reused; default: ${DEFAULT-VALUE}).")
        Path dir;
        @Option(names = "--layers", defaultValue = "2", description = "Decoder layers (default: ${DEFAULT-VALUE}).") int layers;
        @Option(names = "--hidden", defaultValue = "4096", description = "hidden_size (default: ${DEFAULT-VALUE}).") int hidden;
        @Option(names = "--intermediate", defaultValue = "13056", description = "intermediate_size (default: ${DEFAULT-VALUE}).") int intermediate;
        @Option(names = "--heads", defaultValue = "32", description = "Attention heads (default: ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--kv-heads", defaultValue = "8", description = "KV heads (default: ${DEFAULT-VALUE}).") int kvHeads;
        @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary (default: ${DEFAULT-VALUE}).") int vocab;
        @Option(names = "--prompt", defaultValue = "16", description = "Prompt tokens before timing (default: ${DEFAULT-VALUE}).") int prompt;
        @Option(names = "--tokens", defaultValue = "16", description = "Timed decode steps (default: ${DEFAULT-VALUE}).") int tokens;
        @Option(names = "--group-size", defaultValue = "128", description = "GPTQ group size (default: ${DEFAULT-VALUE}).") int groupSize;
        @Option(names = "--act-order", description = "GPTQ g_idx in act-order (shuffled groups) instead of input order.") boolean actOrder;
        @Option(names = "--bandwidth-mib", defaultValue = "1024", description = "Buffer read to measure bandwidth (default: ${DEFAULT-VALUE}).") int bandwidthMiB;

        @Override public Integer call() throws Exception {
            zq.gptq.bench.DecodeBenchmark.run(new zq.gptq.bench.DecodeBenchmark.Options(dir, layers, hidden, intermediate, heads, kvHeads,
                    vocab, prompt, tokens, groupSize, actOrder, bandwidthMiB), spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "prefill", mixinStandardHelpOptions = true, description = {"Prefill tokens/s and peak RSS of one 7B-width layer "
            + "at several prompt lengths, each in a fresh JVM: memory should grow at most linearly with the length."})
    static final class Prefill implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--dir", paramLabel = "D", defaultValue = "${java.io.tmpdir}/zq-bench-prefill", description = "Where the model goes (reused; default: ${DEFAULT-VALUE}).")
        Path dir;
        @Option(names = "--lengths", split = ",", defaultValue = "4096,16384,32768", description = "Prompt lengths (default: ${DEFAULT-VALUE}).")
        List<Integer> lengths;
        @Option(names = "--chunk", defaultValue = "4096", description = "Positions per chunk (default: ${DEFAULT-VALUE}).") int chunk;
        @Option(names = "--hidden", defaultValue = "4096", description = "hidden_size (default: ${DEFAULT-VALUE}).") int hidden;
        @Option(names = "--intermediate", defaultValue = "13056", description = "intermediate_size (default: ${DEFAULT-VALUE}).") int intermediate;
        @Option(names = "--heads", defaultValue = "32", description = "Attention heads (default: ${DEFAULT-VALUE}).") int heads;
        @Option(names = "--kv-heads", defaultValue = "8", description = "KV heads (default: ${DEFAULT-VALUE}).") int kvHeads;

        @Override public Integer call() throws Exception {
            zq.gptq.bench.PrefillBenchmark.run(new zq.gptq.bench.PrefillBenchmark.Options(dir, lengths, chunk, hidden, intermediate, heads,
                    kvHeads), spec.commandLine().getOut());
            return 0;
        }
    }
}
