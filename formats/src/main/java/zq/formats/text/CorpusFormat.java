package zq.formats.text;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of calibration / evaluation files, by name ({@code --format}) or by file extension. */
public enum CorpusFormat {
    /** Whitespace-separated token ids ({@code .tokens}, {@code .ids}). */
    TOKENS(new TokenIdReader()),
    /** Plain UTF-8 text ({@code .txt}, {@code .text}, {@code .md}, {@code .raw}). */
    TEXT(new PlainTextReader()),
    /** JSON Lines with a {@code text} field ({@code .jsonl}, {@code .ndjson}). */
    JSONL(new JsonlTextReader()),
    /** 360Zhinao fine-tuning conversations, a JSON array ({@code .json}). */
    CONVERSATIONS(new ConversationReader());

    private final CorpusReader reader;

    CorpusFormat(CorpusReader reader) { this.reader = reader; }

    public CorpusReader reader() { return reader; }

    /** Lower-case name as given on the command line. */
    public String formatName() { return name().toLowerCase(Locale.ROOT); }

    /** The format called {@code name} ({@code tokens|text|jsonl|conversations}, any case). */
    public static CorpusFormat parse(String name) {
        for (CorpusFormat f : values()) if (f.formatName().equalsIgnoreCase(name.strip())) return f;
        throw new IllegalArgumentException("unknown corpus format '" + name + "'; expected one of " + names());
    }

    /** The format a file's extension names, looking past a compression extension. */
    public static CorpusFormat detect(Path file) {
        String name = CompressedFiles.withoutCompressionSuffix(file.getFileName().toString()).toLowerCase(Locale.ROOT);
        String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
        return switch (ext) {
            case "tokens", "ids" -> TOKENS;
            case "txt", "text", "md", "raw" -> TEXT;
            case "jsonl", "ndjson" -> JSONL;
            case "json" -> CONVERSATIONS;
            default -> throw new IllegalArgumentException("cannot tell the format of " + file + " from its extension; give one of "
                    + names() + " (extensions .tokens .ids, .txt .text .md .raw, .jsonl .ndjson, .json; optionally .gz .xz .bz2 .zst)");
        };
    }

    static String names() {
        return Arrays.stream(values()).map(CorpusFormat::formatName).collect(Collectors.joining("|"));
    }
}
