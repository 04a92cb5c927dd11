package zq.formats;

/**
 * Bad input: a file, tensor or config that zq cannot accept. The message names the file and,
 * where relevant, the tensor and says what is wrong; the CLI prints it on one line and exits 2.
 * Control characters in it (a tensor name or metadata key taken from a hostile file may hold line
 * breaks) are escaped, so the message stays one line whatever the input held.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(oneLine(message)); }

    public CheckpointException(String message, Throwable cause) { super(oneLine(message), cause); }

    static String oneLine(String message) {
        if (message == null || message.chars().noneMatch(Character::isISOControl)) return message;
        StringBuilder b = new StringBuilder(message.length() + 16);
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }
}
