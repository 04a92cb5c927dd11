package zq.cli;

import picocli.CommandLine.Option;
import zq.runtime.generate.SamplingOptions;

import java.util.ArrayList;
import java.util.List;

/** The sampling and stopping options that {@code zq generate} and {@code zq chat} share. */
final class SamplingMixin {
    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "256", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 for greedy decoding (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K most likely tokens; 0 for all (default).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Sample among the most likely tokens whose probability reaches P (default: 1, all).")
    double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "transformers' repetition_penalty over prompt and output (default: 1, none).")
    double repetitionPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0", description = "Subtracted from the logit of every token already generated (default: 0).")
    double presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "F", defaultValue = "0", description = "Subtracted once per earlier occurrence in the output (default: 0).")
    double frequencyPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the random draws (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", paramLabel = "STR", arity = "1..*", description = {"Stop when the text reaches one of these strings, "
            + "besides the tokenizer's end tokens (<eod>, <|im_end|>, <|im_start|>, <|endoftext|>, ...)."})
    List<String> stop = new ArrayList<>();

    SamplingOptions sampling() {
        return new SamplingOptions(temperature, topK, topP, repetitionPenalty, presencePenalty, frequencyPenalty, seed);
    }
}
