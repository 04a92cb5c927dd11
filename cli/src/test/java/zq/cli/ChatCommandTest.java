package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/** {@code zq chat} driven through stdin, on the sample model, its GPTQ quantization and its Qwen2 conversion. */
class ChatCommandTest {
    static final Path SAMPLE = GenerateCommandTest.SAMPLE;
    @TempDir Path tmp;

    private static CliRun chat(Path model, String stdin, String... extra) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            String[] args = new String[4 + extra.length];
            args[0] = "chat";
            args[1] = model.toString();
            args[2] = "--max-new-tokens";
            args[3] = "8";
            System.arraycopy(extra, 0, args, 4, extra.length);
            return zq(args);
        } finally {
            System.setIn(saved);
        }
    }

    /** The reply after /reset is the reply of a fresh one-turn conversation: generate --chat's text. */
    @Test
    void resetStartsOverAndExitEnds() throws Exception {
        CliRun r = chat(SAMPLE, "Hello!\n/reset\nWhat is 2+2?\n/exit\nnever read\n");
        assertEquals(0, r.code(), r.err());
        // each reply is followed by a line break (a reply may hold line breaks of its own)
        String nl = System.lineSeparator();
        assertEquals(oneTurn(SAMPLE, "Hello!") + nl + oneTurn(SAMPLE, "What is 2+2?") + nl, r.out());
    }

    /** A Qwen2 conversion runs the same product as the Zhinao model, so it answers with the same words; a GPTQ model chats too. */
    @Test
    void convertedAndQuantizedModelsChat() throws Exception {
        Path qwen = tmp.resolve("qwen2");
        assertEquals(0, zq("convert", SAMPLE.toString(), "-o", qwen.toString(), "--to", "qwen2").code());
        String stdin = "Hello!\nAnd then?\n";
        CliRun original = chat(SAMPLE, stdin), converted = chat(qwen, stdin);
        assertEquals(0, converted.code(), converted.err());
        assertEquals(original.out(), converted.out());
        assertTrue(original.out().strip().length() > 0, "the sample says something");

        Path gptq = tmp.resolve("gptq");
        CliRun q = zq("quantize", SAMPLE.toString(), "-o", gptq.toString(), "--method", "rtn");
        assertEquals(0, q.code(), q.err());
        CliRun quantized = chat(gptq, stdin, "--stats");
        assertEquals(0, quantized.code(), quantized.err());
        assertEquals(2, quantized.err().lines().filter(l -> l.contains("tokens/s")).count(), quantized.err());
    }

    private static String oneTurn(Path model, String prompt) throws Exception {
        CliRun r = zq("generate", model.toString(), "--prompt", prompt, "--chat", "--max-new-tokens", "8", "--json");
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out()).get("text").asText();
    }
}
