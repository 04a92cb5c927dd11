package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's argument handling only; the benchmark itself is run by hand (it writes gigabytes). */
class ReadBenchmarkTest {
    @TempDir Path tmp;

    @Test void sizesAreDecimal() {
        assertEquals(3_000_000_000L, ReadBenchmark.parseSize("3g"));
        assertEquals(300_000_000L, ReadBenchmark.parseSize("300M"));
        assertEquals(4_096L, ReadBenchmark.parseSize("4096"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadBenchmark.parseSize("lots"));
        assertEquals("size 'lots' is not a byte count such as 3g or 300m", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReadBenchmark.parseSize("99999999999g"));
    }

    @Test void refusesSizesTooSmallForItsTensorsBeforeWriting() {
        Path f = tmp.resolve("b.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadBenchmark.run(f, 1000));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        assertFalse(Files.exists(f));
    }
}
