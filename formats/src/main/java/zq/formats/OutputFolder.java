package zq.formats;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * An output folder that appears only when complete: everything is written into a hidden temporary
 * sibling, which {@link #commit()} renames to the final name. Closing without commit (an error, an
 * interrupt) deletes the temporary folder, so no half-written output ever looks complete.
 */
public final class OutputFolder implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final Thread cleanupOnExit = new Thread(this::deleteIfUncommitted);
    private boolean committed;

    private OutputFolder(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    /** Starts an output folder; refuses an existing non-empty target. */
    public static OutputFolder create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            boolean empty = Files.isDirectory(abs) && isEmpty(abs);
            if (!empty) throw new CheckpointException(abs + ": output folder already exists; choose another or remove it");
        }
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        Path temp = Files.createTempDirectory(parent, "." + abs.getFileName() + ".partial-");
        OutputFolder f = new OutputFolder(abs, temp);
        Runtime.getRuntime().addShutdownHook(f.cleanupOnExit);
        return f;
    }

    /** Where files are written until commit. */
    public Path dir() { return temp; }

    public Path target() { return target; }

    /** Renames the temporary folder to the target. */
    public void commit() throws IOException {
        if (Files.isDirectory(target)) Files.delete(target); // an empty folder we were allowed to replace
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
    }

    @Override public void close() {
        deleteIfUncommitted();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it does the same cleanup
        }
    }

    private synchronized void deleteIfUncommitted() {
        if (committed || !Files.exists(temp)) return;
        try {
            deleteTree(temp);
        } catch (IOException ignored) {
            // best effort: the folder keeps its ".partial-" name, so it never looks complete
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) { return s.findAny().isEmpty(); }
    }

    /** Deletes a folder and everything in it (nothing when it does not exist). */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
