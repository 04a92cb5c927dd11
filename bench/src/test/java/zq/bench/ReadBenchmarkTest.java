package zq.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's argument handling only (sizes: ByteSizeTest); the benchmark itself is run by hand (it writes gigabytes). */
class ReadBenchmarkTest {
    @TempDir Path tmp;

    @Test void refusesSizesTooSmallForItsTensorsBeforeWriting() {
        Path f = tmp.resolve("b.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReadBenchmark.run(f, 1000));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        assertFalse(Files.exists(f));
    }
}
