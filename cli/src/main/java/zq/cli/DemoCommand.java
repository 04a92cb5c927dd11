package zq.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import zq.formats.CheckpointException;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code zq demo}: the main job on the bundled sample, in one command — quantize it to GPTQ Int4
 * and prove the result with the parity report against the dense model. It runs the very same
 * {@code quantize} and {@code validate} commands a user would type, and prints them first.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Quantize the bundled sample model to GPTQ Int4 (g128, desc_act) and print the parity report "
                + "(baseline vs quantized: ppl, ratio, KLD, top-1).",
                "Exit code is validate's: 0 when the thresholds hold, 1 when one fails."})
public final class DemoCommand implements Callable<Integer> {
    static final String MARKER = ".zq-demo";

    @Option(names = "--sample", paramLabel = "DIR", defaultValue = "samples/zhinao-tiny", description = "Dense model. Default: ${DEFAULT-VALUE}.")
    Path sample;

    @Option(names = "--calib", paramLabel = "FILE", defaultValue = "samples/data/calib-conversations.json",
            description = "Calibration data. Default: ${DEFAULT-VALUE}.")
    Path calib;

    @Option(names = "--eval", paramLabel = "FILE", defaultValue = "samples/data/eval.txt", description = "Held-out text. Default: ${DEFAULT-VALUE}.")
    Path eval;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out", description = "Where the quantized model goes. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--method", paramLabel = "gptq|rtn", defaultValue = "gptq", description = "Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--group-size", paramLabel = "G", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
    int groupSize;

    @Option(names = "--desc-act", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Act-order. Default: ${DEFAULT-VALUE}.")
    boolean descAct;

    /** 36 disjoint windows of 256 use 9216 of the 9229 tokens of the default calibration file. */
    @Option(names = "--nsamples", paramLabel = "N", defaultValue = "36",
            description = "Calibration windows (disjoint; 36 x 256 is nearly all of the default file). Default: ${DEFAULT-VALUE}.")
    int nsamples;

    @Option(names = "--seqlen", paramLabel = "L", defaultValue = "256", description = "Window length for calibration and evaluation. Default: ${DEFAULT-VALUE}.")
    int seqlen;

    @Option(names = "--max-ppl-ratio", paramLabel = "R", defaultValue = "1.10", description = "Gate on ppl(quantized)/ppl(dense). Default: ${DEFAULT-VALUE}.")
    double maxPplRatio;

    @Option(names = "--json", description = "Print validate's report as JSON.")
    boolean json;

    @Spec CommandSpec spec;

    @Override public Integer call() throws IOException {
        for (Path p : List.of(sample, calib, eval)) {
            if (!Files.exists(p)) {
                throw new CheckpointException(p + ": not found (run zq demo from the repository root, or pass --sample/--calib/--eval)");
            }
        }
        String name = sample.getFileName() + "-" + method + "-g" + groupSize + (descAct ? "-act" : "");
        Path quantized = out.resolve(name);
        clearPreviousDemo(quantized);
        // the first run on a fresh checkout: the report beside the model needs its folder (quantize creates only -o)
        Files.createDirectories(out);
        List<String> quantize = new ArrayList<>(List.of("quantize", sample.toString(), "-o", quantized.toString(),
                "--method", method, "--group-size", Integer.toString(groupSize), descAct ? "--desc-act" : "--no-desc-act",
                "--seqlen", Integer.toString(seqlen), "--report", out.resolve(name + ".report.json").toString()));
        if (method.equals("gptq")) {
            quantize.addAll(List.of("--calib", calib.toString(), "--nsamples", Integer.toString(nsamples)));
        }
        int rc = run(quantize, !json);
        if (rc != 0) return rc;
        Files.writeString(quantized.resolve(MARKER), "written by zq demo; zq demo replaces this folder\n");
        List<String> validate = new ArrayList<>(List.of("validate", "--baseline", sample.toString(), "--candidate", quantized.toString(),
                "--text", eval.toString(), "--seqlen", Integer.toString(seqlen), "--max-ppl-ratio", Double.toString(maxPplRatio)));
        if (json) validate.add("--json");
        return run(validate, true);
    }

    /** Runs a sibling command; with {@code toStdout} false its results go to stderr (--json keeps stdout one object). */
    private int run(List<String> args, boolean toStdout) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("$ zq " + String.join(" ", args));
        err.flush();
        CommandLine cl = Main.commandLine();
        cl.setOut(toStdout ? spec.commandLine().getOut() : err);
        cl.setErr(err);
        return cl.execute(args.toArray(String[]::new));
    }

    /** A folder the demo wrote before (it carries the marker) is replaced; anything else is left alone. */
    private static void clearPreviousDemo(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        if (!Files.exists(dir.resolve(MARKER))) {
            throw new CheckpointException(dir + ": exists and was not written by zq demo; remove it or pass --out");
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
