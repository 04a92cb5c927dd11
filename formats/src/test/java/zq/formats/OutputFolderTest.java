package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
        // the kernel's ENOSPC message has no path; the writer adds the file and the tensor
        assertTrue(e.getMessage().matches(".*/\\.out\\.partial-\\w+/model-00002-of-00002\\.safetensors: cannot write tensor 'b': disk on fire"),
                e.getMessage());
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

    @Test void refusesEveryExistingTargetBeforeWriting() throws Exception {
        Path full = Files.createDirectory(tmp.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), empty);
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));
        List<String> before = names(tmp);
        assertRefused(full, "output folder already exists; choose another or remove it");
        // --help says OUT_DIR must not exist; an empty folder may be a mount point, which the final rename cannot replace
        assertRefused(empty, "output folder already exists (empty, but it may be a mount point");
        assertRefused(file, "output folder already exists as a file");
        assertRefused(link, "is a symbolic link");
        assertRefused(dangling, "is a symbolic link");
        assertEquals(before, names(tmp), "nothing was written, no partial folder was made, the link is still a link");
        assertTrue(Files.isSymbolicLink(link));
    }

    private static void assertRefused(Path target, String why) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> OutputFolder.create(target));
        assertEquals(target + ": ", e.getMessage().substring(0, target.toString().length() + 2), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test void aTargetThatAppearsDuringTheRunIsLeftAloneAndNamed() throws Exception {
        Path target = tmp.resolve("out");
        try (OutputFolder out = OutputFolder.create(target)) {
            Files.writeString(out.dir().resolve("config.json"), "{}");
            Files.createDirectory(target); // another writer won the race, with a folder rename(2) would silently replace
            CheckpointException e = assertThrows(CheckpointException.class, out::commit);
            assertEquals(target + ": appeared while this run was writing (another process wrote it?); it is left as it is and "
                    + "this run's output is discarded", e.getMessage());
        }
        assertEquals(List.of("out"), names(tmp), "the partial folder is gone");
        assertEquals(List.of(), names(target), "the other writer's folder is untouched");
    }

    /** Two writers of the same output at once: exactly one folder appears, whole, and the loser says why. */
    @Test void concurrentWritersOfOneTargetLeaveOneWholeFolder() throws Exception {
        Path target = tmp.resolve("out");
        int writers = 4;
        java.util.concurrent.CyclicBarrier bothWritten = new java.util.concurrent.CyclicBarrier(writers);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
        for (int w = 0; w < writers; w++) {
            String id = "writer " + w;
            results.add(pool.submit(() -> {
                try (OutputFolder out = OutputFolder.create(target)) {
                    Files.writeString(out.dir().resolve("config.json"), id);
                    Files.writeString(out.dir().resolve("model.safetensors"), id);
                    bothWritten.await(); // every writer is done writing before any commits
                    out.commit();
                    return "committed " + id;
                } catch (CheckpointException e) {
                    assertTrue(e.getMessage().startsWith(target + ": appeared while this run was writing"), e.getMessage());
                    return "lost";
                }
            }));
        }
        List<String> outcomes = new java.util.ArrayList<>();
        for (var f : results) outcomes.add(f.get());
        pool.shutdown();
        assertEquals(1, outcomes.stream().filter(o -> o.startsWith("committed")).count(), outcomes.toString());
        String winner = outcomes.stream().filter(o -> o.startsWith("committed")).findFirst().orElseThrow().substring("committed ".length());
        assertEquals(List.of("config.json", "model.safetensors"), names(target));
        assertEquals(winner, Files.readString(target.resolve("config.json")), "both files from the same writer");
        assertEquals(winner, Files.readString(target.resolve("model.safetensors")));
        assertEquals(List.of("out"), names(tmp), "the losers' partial folders are gone");
    }

    /** The mode a plain mkdir gets under this process's umask: what a user expects an output folder to have. */
    @Test void theFolderHonoursTheUmask() throws Exception {
        Path reference = Files.createDirectory(tmp.resolve("mkdir"));
        Path target = tmp.resolve("out");
        try (OutputFolder out = OutputFolder.create(target)) {
            out.commit();
        }
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(reference);
        assertEquals(expected, Files.getPosixFilePermissions(target));
        // the wrong alternative: the temporary-directory API ignores the umask and gives 700
        Path temp = Files.createTempDirectory(tmp, "t");
        if (expected.contains(PosixFilePermission.OTHERS_READ)) {
            assertNotEquals(expected, Files.getPosixFilePermissions(temp), "the reference must be able to tell 700 from the umask");
        }
    }
}
