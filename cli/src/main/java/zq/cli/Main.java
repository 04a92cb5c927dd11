package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code zq} command. Each subcommand lives in its own class and simply throws
 * on bad input; this class turns such errors into one line on stderr and exit code 2 ({@link Failures}).
 */
@Command(name = "zq", mixinStandardHelpOptions = true, version = "zq 0.1.0",
        description = "Quantize Hugging Face LLM checkpoints to GPTQ Int4, convert them, and prove they keep their perplexity.",
        subcommands = {CommandLine.HelpCommand.class, InspectCommand.class, TokenizeCommand.class, PplCommand.class,
                ValidateCommand.class, QuantizeCommand.class, ConvertCommand.class, DequantizeCommand.class, DemoCommand.class,
                GenerateCommand.class, ChatCommand.class},
        footer = {"", "Benchmarks: zq bench NAME --help (the zq launcher runs them from bench/target/zq-bench.jar, built on first use)."})
public final class Main implements Runnable {
    /** Exit code for bad input (files, tensors, options). */
    public static final int EXIT_BAD_INPUT = Failures.EXIT_BAD_INPUT;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.out); }

    public static CommandLine commandLine() {
        return withErrorHandling(new CommandLine(new Main()), "zq");
    }

    /**
     * Failures (see {@link Failures}) and bad options become one line on stderr, prefixed with {@code prefix}: exit 2 for
     * bad input and resource problems (out of memory included), 3 for a bug.
     */
    public static CommandLine withErrorHandling(CommandLine cl, String prefix) {
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> fail(commandLine, prefix, ex));
        // an Error (out of memory above all) is not an Exception, so it passes the handler above: catch it here
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return runLast.execute(parseResult);
            } catch (OutOfMemoryError | StackOverflowError e) {
                return fail(parseResult.commandSpec().commandLine(), prefix, e);
            }
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println(prefix + ": " + Failures.oneLine(String.valueOf(ex.getMessage())));
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    private static int fail(CommandLine commandLine, String prefix, Throwable ex) {
        if (Failures.outOfMemory(ex) != null) System.gc(); // so "in use" counts what is still reachable
        commandLine.getErr().println(prefix + ": " + Failures.message(ex));
        if (System.getenv(Failures.DEBUG_ENV) != null) ex.printStackTrace(commandLine.getErr());
        commandLine.getErr().flush();
        return Failures.exitCode(ex);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
