package zq.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import zq.formats.Checkpoint;
import zq.formats.SafetensorsFile;
import zq.formats.TensorInfo;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * How fast {@link SafetensorsFile#readFloats} turns tensors of a checkpoint into fp32: each floating-point
 * tensor whose name contains a filter is decoded whole several times; the first and the best time are reported. The
 * file is read once beforehand so that the page cache is warm: this measures reading out of the cache and
 * decoding, not the disk. A benchmark, not a test:
 * <pre>./zq bench tensor-decode MODEL_DIR [--filter NAME_PART] [--repeats 5]</pre>
 */
@Command(name = "tensor-decode", mixinStandardHelpOptions = true,
        description = {"Decode each floating-point tensor of a checkpoint to fp32 several times, page cache warm: "
                + "first and best time, MB/s and values/s per tensor."})
public final class DecodeBenchmark implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "A checkpoint folder.")
    Path model;

    @Option(names = "--filter", paramLabel = "NAME_PART", defaultValue = "",
            description = "Only tensors whose name contains this (default: all).")
    String filter;

    @Option(names = "--repeats", defaultValue = "5", description = "Timed reads of each tensor (default ${DEFAULT-VALUE}).")
    int repeats;

    /** Seconds of each of {@code repeats} whole-tensor reads of {@code t}, in order. */
    public static double[] seconds(SafetensorsFile f, TensorInfo t, int repeats) {
        float[] out = new float[Math.toIntExact(t.numel())];
        double[] s = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            f.readFloats(t, 0, out, 0, out.length);
            s[i] = (System.nanoTime() - t0) / 1e9;
        }
        return s;
    }

    @Override public Integer call() {
        if (repeats <= 0) throw new IllegalArgumentException("--repeats must be positive, got " + repeats);
        try (Checkpoint c = Checkpoint.open(model)) {
            for (SafetensorsFile f : c.files()) {
                for (TensorInfo t : f.tensors()) {
                    if (!t.dtype().isFloatingPoint() || !t.name().contains(filter)) continue;
                    double[] all = seconds(f, t, repeats);
                    double s = Arrays.stream(all).min().orElseThrow();
                    System.out.printf(Locale.ROOT, "%-46s %-5s %-14s first %6.3f s, best %6.3f s = %6.0f MB/s, %6.1f M values/s%n",
                            t.name(), t.dtype(), t.shapeString(), all[0], s, t.byteSize() / 1e6 / s, t.numel() / 1e6 / s);
                }
            }
        }
        return 0;
    }
}
