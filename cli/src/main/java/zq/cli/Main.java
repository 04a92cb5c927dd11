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
                BenchCommand.class})
public final class Main implements Runnable {
    /** Exit code for bad input (files, tensors, options). */
    public static final int EXIT_BAD_INPUT = Failures.EXIT_BAD_INPUT;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.out); }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> fail(commandLine, ex));
        // an Error (out of memory above all) is not an Exception, so it passes the handler above: catch it here
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return runLast.execute(parseResult);
            } catch (OutOfMemoryError | StackOverflowError e) {
                return fail(parseResult.commandSpec().commandLine(), e);
            }
        });
        // benchmark arguments pass through unparsed, options included
        cl.getSubcommands().get("bench").getSubcommands().values().forEach(c -> c.setUnmatchedOptionsArePositionalParams(true));
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("zq: " + Failures.oneLine(String.valueOf(ex.getMessage())));
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    private static int fail(CommandLine commandLine, Throwable ex) {
        if (Failures.outOfMemory(ex) != null) System.gc(); // so "in use" counts what is still reachable
        commandLine.getErr().println("zq: " + Failures.message(ex));
        if (System.getenv(Failures.DEBUG_ENV) != null) ex.printStackTrace(commandLine.getErr());
        commandLine.getErr().flush();
        return Failures.exitCode(ex);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
