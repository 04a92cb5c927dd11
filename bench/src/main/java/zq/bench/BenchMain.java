package zq.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import zq.cli.Main;

/**
 * {@code zq bench NAME [OPTIONS]}: every benchmark behind one command, run from its own jar
 * ({@code bench/target/zq-bench.jar}, which the {@code zq} launcher builds on first use) so that ND4J, the sgemm
 * yardstick, stays out of the shipped {@code zq.jar}. Each prints its report with the baseline it is measured
 * against (the sgemm rate, the disk) taken in the same run; heap limits come from {@code ZQ_JAVA_OPTS}.
 */
@Command(name = "zq bench", mixinStandardHelpOptions = true, version = "zq bench 0.1.0",
        description = {"Benchmarks (not tests): speed and memory against a baseline measured in the same run.",
                "Set the heap with ZQ_JAVA_OPTS (e.g. ZQ_JAVA_OPTS=-Xmx512m ./zq bench read)."},
        subcommands = {CommandLine.HelpCommand.class, ReadBenchmark.class, DecodeBenchmark.class, TokenizerBenchmark.class,
                PerplexityBenchmark.class, GptqBenchmark.class, PipelineBenchmark.class, ConvertBenchmark.class,
                TokenDecodeBenchmark.class, PrefillBenchmark.class})
public final class BenchMain implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    public static CommandLine commandLine() {
        return Main.withErrorHandling(new CommandLine(new BenchMain()), "zq bench");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
