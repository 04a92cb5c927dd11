package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputFolderTest {
    @TempDir Path tmp;

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void failureMidWriteLeavesNothingBehind() throws Exception {
        Path target = tmp.resolve("out");
        // the second shard's tensor fails after writing part of its bytes
        TensorData failing = out -> {
            out.write(ByteBuffer.allocate(16));
            throw new IOException("disk on fire");
        };
        List<SafetensorsWriter.Entry> entries = List.of(
                new SafetensorsWriter.Entry("a", DType.F32, new long[]{100}, TensorData.floats(new float[100], DType.F32)),
                new SafetensorsWriter.Entry("b", DType.F32, new long[]{100}, failing));
        IOException e = assertThrows(IOException.class, () -> {
            try (OutputFolder out = OutputFolder.create(target)) {
                ShardedWriter.write(out.dir(), SafetensorsWriter.defaultMetadata(), entries, 500);
                out.commit();
            }
        });
        assertEquals("disk on fire", e.getMessage());
        assertEquals(List.of(), names(tmp), "neither the target nor a temporary folder remains");
    }

    @Test void commitMakesTheFolderAppearWhole() throws Exception {
        Path target = tmp.resolve("out");
        try (OutputFolder out = OutputFolder.create(target)) {
            Files.writeString(out.dir().resolve("config.json"), "{}");
            assertFalse(Files.exists(target), "nothing at the target before commit");
            assertTrue(out.dir().getFileName().toString().startsWith(".out.partial-"));
            out.commit();
        }
        assertEquals(List.of("out"), names(tmp));
        assertEquals(List.of("config.json"), names(target));
    }

    @Test void refusesANonEmptyTargetButReplacesAnEmptyOne() throws Exception {
        Path full = Files.createDirectory(tmp.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        CheckpointException e = assertThrows(CheckpointException.class, () -> OutputFolder.create(full));
        assertTrue(e.getMessage().startsWith(full + ": output folder already exists"), e.getMessage());

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        try (OutputFolder out = OutputFolder.create(empty)) {
            Files.writeString(out.dir().resolve("f"), "1");
            out.commit();
        }
        assertEquals(List.of("f"), names(empty));
    }
}
