package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import zq.formats.CheckpointException;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Entry point of the {@code zq} command. Each subcommand lives in its own class and simply throws
 * on bad input; this class turns such errors into one line on stderr and exit code 2.
 */
@Command(name = "zq", mixinStandardHelpOptions = true, version = "zq 0.1.0",
        description = "Quantize Hugging Face LLM checkpoints to GPTQ Int4, convert them, and prove they keep their perplexity.",
        subcommands = {CommandLine.HelpCommand.class, InspectCommand.class, TokenizeCommand.class, PplCommand.class,
                ValidateCommand.class, QuantizeCommand.class, ConvertCommand.class, DequantizeCommand.class, DemoCommand.class,
                GenerateCommand.class, ChatCommand.class},
        footer = {"", "Benchmarks: zq bench NAME --help (the zq launcher runs them from bench/target/zq-bench.jar, built on first use)."})
public final class Main implements Runnable {
    /** Exit code for bad input (files, tensors, options). */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.out); }

    public static CommandLine commandLine() {
        return withErrorHandling(new CommandLine(new Main()), "zq");
    }

    /** Bad input (see {@link #isBadInput}) and bad options become one line on stderr, prefixed with {@code prefix}, and exit 2. */
    public static CommandLine withErrorHandling(CommandLine cl, String prefix) {
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (isBadInput(ex)) {
                commandLine.getErr().println(prefix + ": " + ex.getMessage());
                return EXIT_BAD_INPUT;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println(prefix + ": " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    static boolean isBadInput(Throwable ex) {
        return ex instanceof CheckpointException || ex instanceof IllegalArgumentException
                || ex instanceof IOException || ex instanceof UncheckedIOException;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
