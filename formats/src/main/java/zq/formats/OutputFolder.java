package zq.formats;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;

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

    /**
     * Starts an output folder. Anything already at the target is refused before a byte is written: a folder, even an
     * empty one (it may be a mount point, which the final rename could not replace, or a folder someone just made), a
     * file, or a symbolic link (dangling or not: writing through it would land somewhere the user did not name).
     */
    public static OutputFolder create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.isSymbolicLink(abs)) {
            throw new CheckpointException(abs + ": is a symbolic link; name a new folder (zq does not write through links)");
        }
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            String what = !Files.isDirectory(abs) ? " as a file" : isEmpty(abs) ? " (empty, but it may be a mount point or another run's)" : "";
            throw new CheckpointException(abs + ": output folder already exists" + what + "; choose another or remove it");
        }
        Path parent = abs.getParent();
        if (Files.exists(parent) && !Files.isDirectory(parent)) throw new CheckpointException(parent + ": is a file, not a folder");
        Files.createDirectories(parent);
        OutputFolder f = new OutputFolder(abs, createHidden(parent, "." + abs.getFileName() + ".partial-"));
        Runtime.getRuntime().addShutdownHook(f.cleanupOnExit);
        return f;
    }

    /**
     * A new folder with a random suffix. Files.createTempDirectory would make it mode 700 whatever the umask, and the
     * rename keeps that mode, so a server running as another user could not read the model; createDirectory applies
     * the umask as mkdir does.
     */
    private static Path createHidden(Path parent, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = parent.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36));
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Where files are written until commit. */
    public Path dir() { return temp; }

    public Path target() { return target; }

    /**
     * Renames the temporary folder to the target. rename(2) would silently replace an empty folder that appeared
     * meanwhile, so the target is checked first; the window left between check and rename is one system call long,
     * and a non-empty folder there still makes the rename fail.
     */
    public void commit() throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) throw lostRace();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // rename(2) onto a non-empty folder fails with ENOTEMPTY, which the JDK reports as a plain FileSystemException
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) throw lostRace();
            throw e;
        }
        committed = true;
    }

    private CheckpointException lostRace() {
        return new CheckpointException(target + ": appeared while this run was writing (another process wrote it?); it is left "
                + "as it is and this run's output is discarded");
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
