package zq.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import zq.formats.DType;
import zq.formats.SafetensorsFile;
import zq.formats.SafetensorsWriter;
import zq.formats.TensorData;
import zq.formats.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Throughput of the safetensors writer and reader on a multi-GB file, in bounded memory: writes a
 * file of a few large tensors (the largest over 2 GiB at the default 3 GB, so it must be mapped in
 * pieces), then reads it back tensor by tensor and checks every byte through a checksum computed
 * while writing. Meant to run with {@code -Xmx512m}:
 * <pre>ZQ_JAVA_OPTS=-Xmx512m ./zq bench read [SIZE, e.g. 3g or 300MB] [FILE]</pre>
 * The file is deleted afterwards. The read follows the write, so it normally comes from a warm page
 * cache: it measures mapping and checksumming, not the disk.
 */
@Command(name = "read", mixinStandardHelpOptions = true,
        description = {"Write then read back a generated safetensors file tensor by tensor (one tensor over 2 GiB at 3 GB), "
                + "every byte checksummed: MB/s. Run with ZQ_JAVA_OPTS=-Xmx512m; the file is deleted afterwards."})
public final class ReadBenchmark implements Callable<Integer> {
    private static final int COLS = 4096;
    private static final int CHUNK_BYTES = 8 << 20;

    @Parameters(index = "0", arity = "0..1", defaultValue = "3g", converter = SizeConverter.class, paramLabel = "SIZE",
            description = "Bytes of tensors to write (decimal units: 3g, 300MB; default ${DEFAULT-VALUE}).")
    long size;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FILE",
            description = "Where to write the file (default: java.io.tmpdir/zq-read-benchmark.safetensors).")
    Path file;

    /** The outcome of one run; rates in decimal MB/s. */
    public record Result(long bytes, int tensors, long largestTensorBytes, double writeSeconds, double syncSeconds,
                         double readSeconds) {
        public double writeMBps() { return bytes / 1e6 / writeSeconds; }
        public double readMBps() { return bytes / 1e6 / readSeconds; }
    }

    private record Planned(String name, DType dtype, long rows) {
        long bytes() { return rows * COLS * dtype.bytes(); }
    }

    /**
     * Writes about {@code targetBytes} of tensors to {@code file} (which must not exist), reads them
     * back and verifies them; throws IllegalStateException naming the tensor if any byte differs.
     * Leaves the file in place.
     */
    public static Result run(Path file, long targetBytes) throws IOException {
        List<Planned> plan = plan(targetBytes);
        long[] written = new long[plan.size()];
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            Planned p = plan.get(i);
            int index = i;
            entries.add(new SafetensorsWriter.Entry(p.name(), p.dtype(), new long[]{p.rows(), COLS},
                    out -> written[index] = generate(out, p.bytes(), index)));
        }
        long total = plan.stream().mapToLong(Planned::bytes).sum();

        long t0 = System.nanoTime();
        SafetensorsWriter.write(file, SafetensorsWriter.defaultMetadata(), entries);
        long t1 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        long t2 = System.nanoTime();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (int i = 0; i < plan.size(); i++) {
                TensorInfo t = st.require(plan.get(i).name());
                long[] sum = {0};
                st.forEachPiece(t, 0, t.numel(), (piece, first) -> sum[0] = checksum(sum[0], piece));
                if (sum[0] != written[i]) {
                    throw new IllegalStateException(file + ": tensor '" + t.name() + "' reads back with checksum "
                            + Long.toHexString(sum[0]) + ", written " + Long.toHexString(written[i]));
                }
            }
        }
        long t3 = System.nanoTime();
        long largest = plan.stream().mapToLong(Planned::bytes).max().orElse(0);
        return new Result(total, plan.size(), largest, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }

    /** One BF16 tensor of 80 % (over 2 GiB at 3 GB), then F32, F16 and I32 tensors sharing the rest. */
    private static List<Planned> plan(long targetBytes) {
        long bigRows = (long) (targetBytes * 0.8) / (2L * COLS);
        long rest = targetBytes - bigRows * 2 * COLS;
        List<Planned> plan = new ArrayList<>();
        plan.add(new Planned("big.bf16", DType.BF16, bigRows));
        plan.add(new Planned("mid.f32", DType.F32, rest / 3 / (4L * COLS)));
        plan.add(new Planned("mid.f16", DType.F16, rest / 3 / (2L * COLS)));
        plan.add(new Planned("mid.i32", DType.I32, rest / 3 / (4L * COLS)));
        if (plan.stream().anyMatch(p -> p.rows() == 0)) {
            throw new IllegalArgumentException("benchmark size " + targetBytes + " bytes is too small (at least 100 MB)");
        }
        return plan;
    }

    /** Writes {@code bytes} pseudo-random bytes (a multiple of 8) for tensor {@code seed}; returns their checksum. */
    private static long generate(WritableByteChannel out, long bytes, long seed) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long sum = 0, state = seed * 0x9E3779B97F4A7C15L;
        for (long done = 0; done < bytes; ) {
            int n = (int) Math.min(CHUNK_BYTES, bytes - done);
            buf.clear();
            for (int i = 0; i < n; i += 8) {
                state += 0x9E3779B97F4A7C15L;
                long v = mix(state);
                buf.putLong(v);
                sum = sum * 31 + v;
            }
            buf.flip();
            TensorData.writeAll(out, buf);
            done += n;
        }
        return sum;
    }

    private static long checksum(long sum, ByteBuffer piece) {
        ByteBuffer b = piece.order(ByteOrder.LITTLE_ENDIAN);
        int n = b.capacity();
        for (int i = 0; i < n; i += 8) sum = sum * 31 + b.getLong(i);
        return sum;
    }

    /** SplitMix64's finalizer: cheap, well-mixed bits, so a misplaced piece cannot go unnoticed. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override public Integer call() throws IOException {
        if (file == null) file = Path.of(System.getProperty("java.io.tmpdir"), "zq-read-benchmark.safetensors");
        Path parent = file.toAbsolutePath().getParent();
        long free = Files.getFileStore(parent).getUsableSpace();
        if (free < size + size / 10) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: %.2f GB free, the benchmark needs %.2f GB",
                    parent, free / 1e9, size * 1.1 / 1e9));
        }
        try {
            Result r = run(file, size);
            System.out.printf(Locale.ROOT, "file   %s: %.3f GB in %d tensors, largest %.3f GB (%s 2 GiB), max heap %d MB%n",
                    file, r.bytes() / 1e9, r.tensors(), r.largestTensorBytes() / 1e9,
                    r.largestTensorBytes() > (1L << 31) ? "over" : "under", Runtime.getRuntime().maxMemory() >> 20);
            System.out.printf(Locale.ROOT, "write  %.2f s, %.0f MB/s (generating data included), then fsync %.2f s%n",
                    r.writeSeconds(), r.writeMBps(), r.syncSeconds());
            System.out.printf(Locale.ROOT, "read   %.2f s, %.0f MB/s (mapped in pieces, every byte checksummed, page cache warm)%n",
                    r.readSeconds(), r.readMBps());
            System.out.println("verify all tensors match what was written");
        } finally {
            Files.deleteIfExists(file);
        }
        return 0;
    }
}
