package zq.formats;

/**
 * Bad input: a file, tensor or config that zq cannot accept. The message names the file and,
 * where relevant, the tensor and says what is wrong; the CLI prints it on one line and exits 2.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(message); }

    public CheckpointException(String message, Throwable cause) { super(message, cause); }
}
