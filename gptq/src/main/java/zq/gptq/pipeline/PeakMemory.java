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
    public static long peakRssBytes() { return statusBytes("VmHWM:"); }

    private static long statusBytes(String field) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(field)) return parseKilobytes(line) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
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
