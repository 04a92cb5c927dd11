package zq.runtime.generate;

/** Why generation ended. */
public enum StopReason {
    /** A stop token (such as {@code <|im_end|>}) was generated; it is not part of the text. */
    STOP_TOKEN,
    /** The text reached a stop string; the text ends before it. */
    STOP_STRING,
    /** {@code max_new_tokens} were generated. */
    MAX_NEW_TOKENS,
    /** The sequence filled the model's context. */
    CONTEXT_FULL;

    /** The name in {@code --json} output. */
    public String jsonName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
