package zq.formats;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * How fast {@link SafetensorsFile#readFloats} turns tensors of a checkpoint into fp32: each floating-point
 * tensor whose name contains a filter is decoded whole several times; the first and the best time are reported. The
 * file is read once beforehand so that the page cache is warm: this measures reading out of the cache and
 * decoding, not the disk. A benchmark, not a test:
 * <pre>java -cp … zq.formats.DecodeBenchmark MODEL_DIR [NAME_FILTER] [REPEATS]</pre>
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {}

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

    public static void main(String[] args) {
        if (args.length < 1) throw new IllegalArgumentException("usage: DecodeBenchmark MODEL_DIR [NAME_FILTER] [REPEATS]");
        String filter = args.length > 1 ? args[1] : "";
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        try (Checkpoint c = Checkpoint.open(Path.of(args[0]))) {
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
    }
}
