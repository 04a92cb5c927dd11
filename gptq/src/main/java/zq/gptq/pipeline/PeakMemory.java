package zq.gptq.pipeline;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak memory of this process so far: what quantisation reports and what the benchmark compares across model depths. */
public final class PeakMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private PeakMemory() {}

    /**
     * Peak resident set size (Linux VmHWM) in bytes: Java heap, native matrices and mapped files together.
     * -1 where /proc is not available.
     */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmHWM:")) return parseKilobytes(line) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Current anonymous resident memory (Linux RssAnon) in bytes: heap and native allocations, without the
     * file-backed pages of memory-mapped inputs, which VmHWM includes although the kernel can drop them at any time.
     * -1 where /proc is not available.
     */
    public static long rssAnonBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("RssAnon:")) return parseKilobytes(line) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Polls {@link #rssAnonBytes()} on a daemon thread and keeps the largest value seen, for benchmarks. */
    public static final class AnonSampler implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;
        private volatile long peak = rssAnonBytes();

        public AnonSampler(long periodMillis) {
            thread = new Thread(() -> {
                while (running) {
                    peak = Math.max(peak, rssAnonBytes());
                    try {
                        Thread.sleep(periodMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "zq-rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        /** The largest anonymous RSS sampled so far, this moment included. */
        public long peakBytes() {
            peak = Math.max(peak, rssAnonBytes());
            return peak;
        }

        @Override
        public void close() {
            running = false;
            thread.interrupt();
        }
    }

    /** "VmHWM:	  123456 kB" to 123456. */
    static long parseKilobytes(String line) {
        String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        if (parts.length != 2 || !parts[1].equals("kB")) throw new IllegalArgumentException("unexpected /proc status line: " + line);
        return Long.parseLong(parts[0]);
    }

    /** Sum of the heap memory pools' peak usage: an upper bound of the peak Java heap (pools peak at different times). */
    public static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }
}
