package zq.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * An output file that appears only when complete: it is written inside a hidden {@link OutputFolder}
 * next to the target ({@code .NAME.partial-*}) and moved to its name by {@link #commit()}. Closing
 * without commit removes the partial folder, so a half-written file never carries the target's name.
 */
public final class OutputFile implements AutoCloseable {
    private final Path target;
    private final OutputFolder staging;

    private OutputFile(Path target, OutputFolder staging) {
        this.target = target;
        this.staging = staging;
    }

    /** Starts an output file; refuses an existing target (file or folder). */
    public static OutputFile create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs)) throw new CheckpointException(abs + ": output file already exists; choose another name or remove it");
        return new OutputFile(abs, OutputFolder.create(abs));
    }

    /** Where the file is written until commit. */
    public Path path() { return staging.dir().resolve(target.getFileName()); }

    public Path target() { return target; }

    /** Moves the finished file to the target name; returns the target. */
    public Path commit() throws IOException {
        if (Files.exists(target)) throw new CheckpointException(target + ": appeared while it was being written; the new file is not kept");
        Files.move(path(), target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    @Override public void close() { staging.close(); }
}
