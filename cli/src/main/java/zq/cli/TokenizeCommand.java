package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import zq.formats.text.CompressedFiles;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code zq tokenize MODEL}: the ids and pieces of a text with the model's own tokenizer, or with
 * {@code --decode} the text of a list of ids.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with the tokenizer a stock loader would use (tokenizer.json, else vocab/360.tiktoken), or decode ids.",
                "Prints one line per token (id and piece); --json prints {\"ids\": [...], \"pieces\": [...]}."})
public final class TokenizeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model folder, a .tiktoken file or a tokenizer.json.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text (with --decode: ids separated by spaces or commas).")
        String text;

        @Option(names = "--file", paramLabel = "FILE", description = "Read the text (or ids) from a file (.gz/.xz/.bz2/.zst allowed).")
        Path file;
    }

    @Option(names = "--decode", description = "Input is token ids; print their text.")
    boolean decode;

    @Option(names = "--skip-special", description = "With --decode: drop special tokens as the reference tokenizer does.")
    boolean skipSpecial;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        Tokenizer tok = TokenizerLoader.load(model);
        String in = input.text != null ? input.text : CompressedFiles.readString(input.file);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper m = new ObjectMapper();
        if (decode) {
            int[] ids = parseIds(in);
            String text = tok.decode(ids, skipSpecial);
            if (json) {
                ObjectNode o = m.createObjectNode();
                o.put("text", text);
                out.println(m.writeValueAsString(o));
            } else {
                out.println(text);
            }
        } else {
            int[] ids = tok.encode(in);
            if (json) {
                ObjectNode o = m.createObjectNode();
                ArrayNode a = o.putArray("ids");
                ArrayNode p = o.putArray("pieces");
                for (int id : ids) {
                    a.add(id);
                    p.add(tok.piece(id));
                }
                out.println(m.writeValueAsString(o));
            } else {
                for (int id : ids) out.printf("%d\t%s%n", id, tok.piece(id));
                out.printf("%d tokens%n", ids.length);
            }
        }
        out.flush();
        return 0;
    }

    static int[] parseIds(String s) {
        String t = s.strip();
        if (t.isEmpty()) return new int[0];
        try {
            return Arrays.stream(t.split("[\\s,\\[\\]]+")).filter(x -> !x.isEmpty()).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--decode expects integer token ids, got '" + e.getMessage().replace("For input string: ", "") + "'");
        }
    }
}
