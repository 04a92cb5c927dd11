package zq.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import zq.convert.gguf.GgufExporter;
import zq.formats.ByteSize;
import zq.formats.HfJson;
import zq.formats.OutputFolder;
import zq.gptq.GptqConfig;
import zq.gptq.QuantizedLinear;
import zq.gptq.export.GptqExporter;
import zq.gptq.export.QuantizeRequest;
import zq.gptq.export.QuantizeResult;
import zq.gptq.hessian.HessianBackend;
import zq.gptq.pipeline.Calibration;
import zq.gptq.pipeline.ModuleReport;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.ProgressListener;
import zq.gptq.pipeline.QuantizeMethod;
import zq.gptq.pipeline.QuantizedLayer;
import zq.gptq.pipeline.SgemmProbe;
import zq.gptq.pipeline.WorkEstimate;

/**
 * {@code zq quantize}: a dense model folder to an AutoGPTQ-layout GPTQ Int4 folder, one decoder layer at a time.
 * Summary on stdout ({@code --json} for machines), progress on stderr, the per-Linear report with {@code --report}.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a dense checkpoint to GPTQ Int4 in AutoGPTQ's layout (loads in transformers, vLLM/Marlin and, "
                + "with the default sym=true, AutoGPTQ). Layers are quantized one at a time straight from the memory-mapped "
                + "input and written as soon as they are done; OUT_DIR appears only when complete.",
                "Defaults follow AutoGPTQ (damp 0.01, sym, true-sequential) with group size 128 and desc_act off: the "
                + "g_idx stays j/group_size, which every kernel handles at full speed (use --desc-act --static-groups for "
                + "act-order accuracy with the same trivial g_idx)."})
public final class QuantizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "Dense model folder: config.json and safetensors weights.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT_DIR", description = "New folder to write (must not exist: an existing folder, even empty, or a link is refused).")
    Path output;

    @Option(names = "--method", paramLabel = "gptq|rtn", defaultValue = "gptq",
            description = "gptq, or rtn (round-to-nearest on the same grid, no calibration). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--bits", paramLabel = "N", defaultValue = "4", description = "Code width; only 4 is supported. Default: ${DEFAULT-VALUE}.")
    int bits;

    @Option(names = "--group-size", paramLabel = "G", defaultValue = "128",
            description = "Input columns per scale/zero group, or -1 for one group per row; must divide every Linear's "
                    + "input width. Default: ${DEFAULT-VALUE}.")
    int groupSize;

    @Option(names = "--desc-act", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Act-order: quantize columns by decreasing Hessian diagonal. Default: off.")
    boolean descAct;

    @Option(names = "--sym", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Symmetric grid (zero point 8). --no-sym writes checkpoint_format gptq_v2: GPTQModel and vLLM releases "
                    + "that handle gptq_v2 load it, AutoGPTQ refuses it, older vLLM misreads it silently. "
                    + "Default: on.")
    boolean sym;

    @Option(names = "--static-groups", description = "Fit every group's grid before act-order, keeping g_idx = j/group_size.")
    boolean staticGroups;

    @Option(names = "--damp", paramLabel = "P", defaultValue = "0.01",
            description = "damp_percent: fraction of mean(diag H) added to the diagonal. Default: ${DEFAULT-VALUE}.")
    double damp;

    @Option(names = "--mse", description = "Search a shrunk grid per group that minimizes |q - w|^2.4 (off in every reference tool).")
    boolean mse;

    @Option(names = "--no-true-sequential",
            description = "Take all Hessians of a layer from its unquantized forward instead of quantizing [q,k,v], [o], "
                    + "[up,gate], [down] one after another.")
    boolean noTrueSequential;

    @Option(names = "--calib", paramLabel = "FILE", description = "Calibration data (required for gptq).")
    Path calib;

    @Option(names = "--calib-format", paramLabel = "tokens|text|jsonl|conversations",
            description = "Format of --calib; by default taken from its extension. Text formats use the model's tokenizer.")
    String calibFormat;

    @Option(names = "--nsamples", paramLabel = "N", defaultValue = "128",
            description = "Calibration windows. They never overlap: N windows of L tokens at seeded positions, every token "
                    + "used once when the data holds exactly N x L tokens; more than fit is an error that says how many do. "
                    + "Default: ${DEFAULT-VALUE}.")
    int nsamples;

    @Option(names = "--seqlen", paramLabel = "L", defaultValue = "2048", description = "Tokens per calibration window. Default: ${DEFAULT-VALUE}.")
    int seqlen;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the window offsets. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--hessian", paramLabel = "auto|opencl|cpu", defaultValue = "auto",
            description = "Where Hessians are accumulated: auto (an OpenCL GPU if there is one, else BLAS), opencl or cpu. "
                    + "Default: ${DEFAULT-VALUE}.")
    String hessian;

    @Option(names = "--max-shard-size", paramLabel = "SIZE", defaultValue = "5GB",
            description = "Largest weight file before HF shards plus an index are written. Default: ${DEFAULT-VALUE}.")
    String maxShardSize;

    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON report: per-Linear loss and damping, time per phase, peak memory. It is complete "
            + "before OUT_DIR appears; it may not be an input or lie inside an input folder, and an existing file is "
            + "replaced only if it is a zq report.")
    Path report;

    @Option(names = "--json", description = "Print the summary as one JSON object.")
    boolean json;

    @Option(names = "--format", paramLabel = "gptq|gguf", defaultValue = "gptq",
            description = "gptq: an AutoGPTQ-layout folder OUT_DIR; gguf: one llama.cpp file OUT.gguf whose Linears are the GPTQ "
                    + "codes as Q4_0 blocks (sym) or Q4_1 (asym); needs a group size that is a multiple of 32 or -1, and "
                    + "--desc-act only with --static-groups. Default: ${DEFAULT-VALUE}.")
    String format;

    @Override public Integer call() throws IOException {
        QuantizeMethod m = QuantizeMethod.parse(method);
        GptqConfig config = new GptqConfig(bits, groupSize, descAct, sym, staticGroups, damp, GptqConfig.DEFAULT_BLOCK_SIZE, mse);
        PipelineOptions options = new PipelineOptions(m, config, !noTrueSequential, HessianBackend.parse(hessian));
        long shardBytes = ByteSize.parse("--max-shard-size", maxShardSize);
        PrintWriter err = spec.commandLine().getErr();
        checkGgufSettings();
        boolean gguf = "gguf".equals(format);
        ReportFile reportFile = report == null ? null : ReportFile.check(report, "quantize", output, Arrays.asList(model, calib));
        Calibration calibration = null;
        if (m == QuantizeMethod.GPTQ) {
            if (calib == null) {
                throw new IllegalArgumentException("--method gptq needs calibration data: --calib FILE (tokens, text, jsonl or "
                        + "conversations); --method rtn needs none");
            }
            calibration = Calibration.load(calib, calibFormat, model, nsamples, seqlen, seed);
            err.printf(Locale.ROOT, "zq: calibration: %d windows x %d tokens from %s%n", calibration.nsamples(), seqlen, calib);
        } else if (calib != null) {
            err.println("zq: note: --method rtn uses no calibration; --calib is ignored");
        }
        for (String w : GptqExporter.warnings(options)) err.println("zq: warning: " + w);
        err.flush();

        if (gguf) return quantizeToGguf(options, calibration, shardBytes, err, reportFile);
        QuantizeResult r = GptqExporter.run(new QuantizeRequest(model, output, options, calibration, shardBytes), progress(err),
                done -> { if (reportFile != null) reportFile.write(done.reportJson()); });
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? HfJson.pretty(r.summaryJson()) : r.toText());
        out.flush();
        return 0;
    }

    /** Refuses, before any work, settings whose groups do not fall on Q4 blocks of 32 inputs. */
    private void checkGgufSettings() {
        if (!"gguf".equals(format) && !"gptq".equals(format)) {
            throw new IllegalArgumentException("--format '" + format + "' is not gptq or gguf");
        }
        if (!"gguf".equals(format)) return;
        if (groupSize != -1 && (groupSize <= 0 || groupSize % 32 != 0)) {
            throw new IllegalArgumentException("--format gguf needs --group-size -1 or a multiple of 32 (Q4 blocks hold 32 inputs of one "
                    + "group), got " + groupSize);
        }
        if (descAct && !staticGroups) {
            throw new IllegalArgumentException("--format gguf with --desc-act needs --static-groups: act-order alone scatters each group's "
                    + "inputs, so no block of 32 consecutive inputs shares one scale");
        }
        if (java.nio.file.Files.exists(output)) throw new IllegalArgumentException(output + ": output file already exists");
    }

    /** Quantizes into a hidden GPTQ folder beside OUT.gguf, exports that, and removes the folder. */
    private int quantizeToGguf(PipelineOptions options, Calibration calibration, long shardBytes, PrintWriter err,
                               ReportFile reportFile) throws IOException {
        Path abs = output.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        Path work = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".gptq-");
        try {
            Path gptq = work.resolve("gptq");
            QuantizeResult r = GptqExporter.run(new QuantizeRequest(model, gptq, options, calibration, shardBytes), progress(err));
            if (reportFile != null) reportFile.write(r.reportJson()); // before OUT.gguf appears
            String name = model.toAbsolutePath().normalize().getFileName() + "-gptq";
            GgufExporter.Result g = GgufExporter.export(gptq, output, null, name, line -> { });
            PrintWriter out = spec.commandLine().getOut();
            out.println(ConvertCommand.ggufSummary(g));
            out.flush();
            return 0;
        } finally {
            OutputFolder.deleteTree(work);
        }
    }

    /**
     * Before the first layer, the work ahead and the time it takes at this machine's sgemm rate (a second-long probe),
     * with the flags that shorten it; then one stderr line per quantized Linear and one per finished layer, with an ETA
     * from the average finished layer (from the estimate until the first layer is done).
     */
    private ProgressListener progress(PrintWriter err) {
        return new ProgressListener() {
            private double estimatedSeconds = Double.NaN;

            @Override public void planned(WorkEstimate work) {
                double rate = SgemmProbe.flopsPerSecond(1.0);
                estimatedSeconds = work.seconds(rate);
                err.printf(Locale.ROOT, "zq: work: %s (forward %s at %.2f forwards per layer, Hessians %s, solves %s) "
                                + "over %d calibration tokens; at this machine's sgemm rate of %.0f GFLOP/s that is at least %s%n",
                        flops(work.totalFlops()), flops(work.forwardFlops()), work.forwardsPerLayer(), flops(work.hessianFlops()),
                        flops(work.solveFlops()), work.tokens(), rate / 1e9, duration(estimatedSeconds));
                if (estimatedSeconds > 15 * 60) {
                    // suggesting 16×512 to a run that already uses at most that many tokens would only repeat its flags
                    String fewer = (long) nsamples * seqlen > 16 * 512 ? String.format(Locale.ROOT, "fewer calibration tokens "
                            + "(--nsamples %d --seqlen %d now; forward and Hessian work grow with their product, e.g. --nsamples 16 "
                            + "--seqlen 512), ", nsamples, seqlen) : "";
                    err.printf(Locale.ROOT, "zq: to shorten it: %s--hessian opencl on a GPU; the solves (%s) depend only on the "
                            + "model's widths%n", fewer, flops(work.solveFlops()));
                }
                err.flush();
            }

            @Override public void moduleDone(ModuleReport module, QuantizedLinear result, Progress p) {
                String loss = module.gptq() == null ? "rtn" : String.format(Locale.ROOT, "loss %.4g", module.loss());
                String damp = module.gptq() != null && module.gptq().dampRaised()
                        ? String.format(Locale.ROOT, " (damp raised to %.4g)", module.gptq().dampPercentUsed()) : "";
                err.printf(Locale.ROOT, "zq: layer %d/%d %-28s %s%s  %.2f s  ETA %s%n", p.layer() + 1, p.layers(),
                        shortName(module), loss, damp, module.solveSeconds(), eta(p));
                err.flush();
            }

            @Override public void layerDone(QuantizedLayer layer, Progress p) {
                err.printf(Locale.ROOT, "zq: layer %d/%d done in %.1f s, ETA %s%n", p.layer() + 1, p.layers(), layer.seconds(), eta(p));
                err.flush();
            }

            private String eta(Progress p) {
                if (p.layersDone() > 0 || !Double.isFinite(estimatedSeconds)) return duration(p.etaSeconds());
                return "~" + duration(Math.max(0, estimatedSeconds - p.elapsedSeconds())) + " (estimate)";
            }
        };
    }

    /** "self_attn.q_proj" from "model.layers.3.self_attn.q_proj". */
    private static String shortName(ModuleReport m) {
        String prefix = "model.layers." + m.layer() + ".";
        return m.name().startsWith(prefix) ? m.name().substring(prefix.length()) : m.name();
    }

    /** "3.35 TFLOP", "41.2 GFLOP". */
    static String flops(double f) {
        return f >= 1e12 ? String.format(Locale.ROOT, "%.2f TFLOP", f / 1e12) : String.format(Locale.ROOT, "%.1f GFLOP", f / 1e9);
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
