package zq.formats;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opening a weight file for reading and validating it, with the channel closed when validation fails. */
public final class ChannelFiles {
    private ChannelFiles() {}

    /** Reads and validates a file from its open channel; the result keeps the channel. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(Path file, FileChannel channel) throws IOException;
    }

    /** Opens {@code file} and parses it; any defect is a {@link CheckpointException} naming the file, and leaves nothing open. */
    public static <T> T open(Path file, Parser<T> parser) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return parser.parse(file, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public static void closeQuietly(FileChannel ch) {
        try { ch.close(); } catch (IOException ignored) { /* nothing to recover */ }
    }
}
