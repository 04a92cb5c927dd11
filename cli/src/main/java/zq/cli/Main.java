package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code zq} command. Subcommands each live in their own class. */
@Command(name = "zq", mixinStandardHelpOptions = true, version = "zq 0.1.0",
        description = "Quantize Hugging Face LLM checkpoints to GPTQ Int4, convert them, and prove they keep their perplexity.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.out); }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
