package zq.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import zq.convert.CheckpointConverter;
import zq.convert.ConvertOptions;
import zq.convert.ConvertResult;
import zq.formats.OutputFolder;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.SyntheticModel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Converts a generated multi-GB Zhinao checkpoint (7B widths: hidden 4096, FFN 13056, 32 heads,
 * 8 KV heads; vocab 32000 and as many layers as the size allows) three ways and reports MB/s of
 * tensor data: a RoPE-base change (all byte copies), a bf16 → f16 conversion, and Zhinao → Qwen2
 * (byte copies plus head-block gathers). Meant to run with {@code -Xmx512m}: nothing is held whole.
 *
 * <pre>ZQ_JAVA_OPTS=-Xmx512m ./zq bench convert [WORK_DIR] [GIGABYTES=3] [--keep-model]</pre>
 *
 * "MB/s" counts tensor bytes written per second until the converter returns; "synced" also waits
 * until the output is on disk (fsync of every file), which is the disk-speed figure.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a generated ~3 GB checkpoint (byte copy with --rope-base, --dtype f16, --to qwen2): MB/s, "
                + "and with every file synced. Run with ZQ_JAVA_OPTS=-Xmx512m."})
public final class ConvertBenchmark implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "WORK_DIR",
            description = "Where the model and outputs are written (default: java.io.tmpdir/zq-convert-bench).")
    Path work = Path.of(System.getProperty("java.io.tmpdir"), "zq-convert-bench");

    @Parameters(index = "1", arity = "0..1", paramLabel = "GIGABYTES", description = "Size of the generated model (default 3).")
    double gigabytes = 3.0;

    @Option(names = "--keep-model", description = "Keep the generated model for the next run.")
    boolean keepModel;

    public record Run(String name, long tensorBytes, double seconds, double syncedSeconds) {
        public double mbPerSecond() { return tensorBytes / 1e6 / seconds; }

        public double syncedMbPerSecond() { return tensorBytes / 1e6 / syncedSeconds; }

        @Override public String toString() {
            return String.format("%-26s %7.0f MB  %6.2f s  %7.0f MB/s   synced %6.2f s  %7.0f MB/s", name, tensorBytes / 1e6,
                    seconds, mbPerSecond(), syncedSeconds, syncedMbPerSecond());
        }
    }

    public record Report(Path model, long modelBytes, double generateSeconds, long maxHeapBytes, List<Run> runs) {
        @Override public String toString() {
            StringBuilder s = new StringBuilder(String.format("model %s: %.2f GB of tensors, generated in %.1f s; max heap %d MB%n",
                    model, modelBytes / 1e9, generateSeconds, maxHeapBytes >> 20));
            for (Run r : runs) s.append(r).append(System.lineSeparator());
            return s.toString();
        }
    }

    private static final int HIDDEN = 4096, FFN = 13056, HEADS = 32, KV_HEADS = 8, VOCAB = 32000;

    /** A 7B-wide Zhinao config with as many layers as bring its bf16 weights near {@code gigabytes}. */
    public static ObjectNode config(double gigabytes) {
        long layerParams = (long) HIDDEN * (HIDDEN + 2L * KV_HEADS * (HIDDEN / HEADS)) + (HIDDEN + 2L * KV_HEADS * (HIDDEN / HEADS))
                + (long) HIDDEN * HIDDEN + 3L * HIDDEN * FFN + 2L * HIDDEN;
        long fixedParams = 2L * VOCAB * HIDDEN + HIDDEN;
        int layers = (int) Math.max(1, Math.round((gigabytes * 1e9 / 2 - fixedParams) / layerParams));
        return SyntheticModel.config(Architecture.ZHINAO, HIDDEN, FFN, layers, HEADS, KV_HEADS, VOCAB);
    }

    public static Report run(Path work, double gigabytes, boolean keepModel) throws IOException {
        Files.createDirectories(work);
        Path model = work.resolve("model-" + gigabytes + "GB");
        long t0 = System.nanoTime();
        if (!SyntheticModel.exists(model)) SyntheticModel.write(model, config(gigabytes), DType.BF16, 42, 2_000_000_000L);
        syncAll(model); // else the first run competes with the write-back of the freshly generated model
        double generate = (System.nanoTime() - t0) / 1e9;
        List<Run> runs = new ArrayList<>();
        try {
            runs.add(time("--rope-base 1e6 (copy)", model, work.resolve("rope"), ConvertOptions.none().withRopeBase(1e6)));
            runs.add(time("--dtype f16 (convert)", model, work.resolve("f16"), ConvertOptions.none().withDtype(DType.F16)));
            runs.add(time("--to qwen2 (split)", model, work.resolve("qwen2"), ConvertOptions.none().withTarget(Architecture.QWEN2)));
        } finally {
            if (!keepModel) OutputFolder.deleteTree(model);
        }
        return new Report(model, runs.isEmpty() ? 0 : runs.get(0).tensorBytes, generate, Runtime.getRuntime().maxMemory(), runs);
    }

    private static Run time(String name, Path model, Path out, ConvertOptions options) throws IOException {
        OutputFolder.deleteTree(out);
        try {
            long t0 = System.nanoTime();
            ConvertResult r = CheckpointConverter.convert(model, out, options);
            long t1 = System.nanoTime();
            syncAll(out);
            long t2 = System.nanoTime();
            return new Run(name, r.tensorBytes(), (t1 - t0) / 1e9, (t2 - t0) / 1e9);
        } finally {
            OutputFolder.deleteTree(out);
        }
    }

    private static void syncAll(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
    }

    @Override public Integer call() throws IOException {
        if (!(gigabytes > 0)) throw new IllegalArgumentException("GIGABYTES must be positive, got " + gigabytes);
        System.out.print(run(work, gigabytes, keepModel));
        return 0;
    }
}
