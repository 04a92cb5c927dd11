package zq.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import zq.formats.Checkpoint;
import zq.formats.HfJson;
import zq.validate.Parity;
import zq.validate.ParityReport;
import zq.validate.ParityThresholds;
import zq.validate.Perplexity;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code zq validate}: runs a baseline and a candidate on the same windows and compares their
 * next-token distributions. Exit 0 when every given threshold holds, 1 when one fails, 2 on bad input.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Compare a candidate model with a baseline on the same token windows: perplexity of each and their "
                + "ratio, KL divergence (mean and percentiles), top-1 agreement and RMS delta-p, as llama-perplexity "
                + "--kl-divergence reports them. Exit 0 when all given thresholds hold, 1 when one fails, 2 on bad input."})
public final class ValidateCommand implements Callable<Integer> {
    /** Exit code when the candidate breaks a threshold. */
    public static final int EXIT_FAILED = 1;

    @Spec CommandSpec spec;

    @Option(names = "--baseline", required = true, paramLabel = "DIR", description = "Reference model folder.")
    Path baseline;

    @Option(names = "--candidate", required = true, paramLabel = "DIR", description = "Model folder to judge (dense or GPTQ).")
    Path candidate;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PplCommand.TokenInput input;

    @Option(names = "--seqlen", paramLabel = "N", defaultValue = "2048", description = "Window length (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--max-windows", paramLabel = "N", description = "Score only the first N windows.")
    Integer maxWindows;

    @Option(names = "--max-ppl-ratio", paramLabel = "R", description = "Fail when PPL(candidate)/PPL(baseline) > R.")
    Double maxPplRatio;

    @Option(names = "--max-kld", paramLabel = "K", description = "Fail when the mean KL divergence > K.")
    Double maxKld;

    @Option(names = "--min-top1", paramLabel = "T", description = "Fail when top-1 agreement < T (a fraction, e.g. 0.95).")
    Double minTop1;

    @Option(names = "--json", description = "Print one JSON object (ppl_baseline, ppl_candidate, ppl_ratio, kld_mean, "
            + "top1_agreement, pass, failures, ...).")
    boolean json;

    @Override public Integer call() {
        ParityThresholds thresholds = new ParityThresholds(maxPplRatio, maxKld, minTop1);
        int windows = PplCommand.maxWindows(maxWindows);
        int[] tokens = input.read(baseline);
        ParityReport report;
        try (Checkpoint base = Checkpoint.open(baseline); Checkpoint cand = Checkpoint.open(candidate)) {
            report = Parity.run(base, cand, tokens, Perplexity.Options.of(seqLen, windows));
        }
        List<String> failures = thresholds.failures(report);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? HfJson.pretty(report.toJson(failures)) : report.toText(failures));
        out.flush();
        return failures.isEmpty() ? 0 : EXIT_FAILED;
    }
}
