package zq.formats;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;

/**
 * JSON laid out as Hugging Face's Python tools write it ({@code json.dumps(indent=2)}): two-space
 * indent, {@code "key": value}, one array element per line, so zq's config.json and index files
 * diff cleanly against the originals.
 */
public final class HfJson {
    private static final ObjectWriter PRETTY;

    static {
        DefaultIndenter indent = new DefaultIndenter("  ", "\n");
        Separators seps = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(seps).withObjectIndenter(indent).withArrayIndenter(indent);
        PRETTY = JsonMapper.builder().build().writer(printer);
    }

    private HfJson() {}

    /** The node as pretty JSON text ending in a newline. */
    public static String pretty(JsonNode node) {
        try {
            return PRETTY.writeValueAsString(node) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize JSON", e);
        }
    }
}
