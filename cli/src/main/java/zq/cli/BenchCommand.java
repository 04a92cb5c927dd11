package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

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
                BenchCommand.Hessian.class, BenchCommand.Quantize.class, BenchCommand.Convert.class})
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

    @Command(name = "quantize", description = {"The real zq quantize, end to end in a child JVM, on a generated "
            + "360Zhinao2-7B-shaped checkpoint of N layers (generated once, reused): wall, time per phase, peak RSS, against the "
            + "ideal time from the run's FLOPs and the sgemm rate of the same run. ARGS: [--model zhinao-7b|llama-7b] [--layers 1] "
            + "[--nsamples 16,32] [--seqlen 512] [--group-size 128] [--hessian cpu] [--dir D] [--scale F]."})
    static final class Quantize extends PassThrough {
        @Override void main(String[] a) throws Exception { zq.gptq.bench.PipelineBenchmark.main(a); }
    }

    @Command(name = "convert", description = {"Convert a generated ~3 GB checkpoint (byte copy with --rope-base, --dtype f16, "
            + "--to qwen2): MB/s. ARGS: [WORK_DIR] [GIGABYTES=3] [--keep-model]. Run with ZQ_JAVA_OPTS=-Xmx512m."})
    static final class Convert extends PassThrough {
        @Override void main(String[] a) { zq.convert.ConvertBenchmark.main(a); }
    }
}
