package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import zq.formats.text.ChatMessage;
import zq.formats.text.ChatTemplate;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/** {@code zq generate} on the sample 360Zhinao model. */
class GenerateCommandTest {
    static final Path SAMPLE = Path.of("..", "samples", "zhinao-tiny");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMPT = "The capital of China is";

    @Test
    void greedyJsonIsTheFloat64ReferenceArgmaxAndStreamingPrintsTheSameText() throws Exception {
        CliRun r = zq("generate", SAMPLE.toString(), "--prompt", PROMPT, "--max-new-tokens", "10", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        Tokenizer tok = TokenizerLoader.load(SAMPLE);
        int[] prompt = ints(j.get("prompt_ids"));
        int[] generated = ints(j.get("generated_ids"));
        assertArrayEquals(tok.encode(PROMPT), prompt);
        assertEquals(tok.decode(generated), j.get("text").asText());
        String reason = j.get("stop_reason").asText();
        assertTrue(reason.equals("max_new_tokens") ? generated.length == 10 : reason.equals("stop_token"), reason);
        assertTrue(j.get("kv_cache_bytes").asLong() > 0);
        assertTrue(generated.length < 2 || j.get("tokens_per_second").asDouble() > 0);

        // each generated token is the argmax of the float64 forward over everything before it (sample logits have no near-ties at 1e-4 here)
        int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, all, prompt.length, generated.length);
        for (int i = 0; i < generated.length; i++) {
            double[][] logits = ReferenceForward.logits(SAMPLE, Arrays.copyOf(all, prompt.length + i));
            double[] last = logits[logits.length - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
            assertEquals(best, generated[i], "step " + i);
        }

        CliRun streamed = zq("generate", SAMPLE.toString(), "--prompt", PROMPT, "--max-new-tokens", "10");
        assertEquals(0, streamed.code(), streamed.err());
        assertEquals(j.get("text").asText() + System.lineSeparator(), streamed.out());
        assertTrue(streamed.err().contains("tokens/s"), streamed.err());
    }

    @Test
    void chatWrapsThePromptInTheTemplateAndStopStringsCutTheText() throws Exception {
        CliRun r = zq("generate", SAMPLE.toString(), "--prompt", PROMPT, "--chat", "--system", "Be brief.", "--max-new-tokens", "12", "--json");
        assertEquals(0, r.code(), r.err());
        Tokenizer tok = TokenizerLoader.load(SAMPLE);
        int[] expected = new ChatTemplate(tok).encodeForGeneration(List.of(ChatMessage.system("Be brief."), ChatMessage.user(PROMPT)));
        assertArrayEquals(expected, ints(JSON.readTree(r.out()).get("prompt_ids")));

        String text = JSON.readTree(zq("generate", SAMPLE.toString(), "--prompt", PROMPT, "--max-new-tokens", "12", "--json").out())
                .get("text").asText();
        assertTrue(text.length() >= 4, "need some text to cut: '" + text + "'");
        String stop = text.substring(2, 4);
        int at = text.indexOf(stop);
        JsonNode cut = JSON.readTree(zq("generate", SAMPLE.toString(), "--prompt", PROMPT, "--max-new-tokens", "12", "--json",
                "--stop", "\u0000never", stop).out());
        assertEquals("stop_string", cut.get("stop_reason").asText());
        assertEquals(text.substring(0, at), cut.get("text").asText());
    }

    @Test
    void samplingIsReproducibleForASeed() throws Exception {
        String[] args = {"generate", SAMPLE.toString(), "--prompt", PROMPT, "--max-new-tokens", "8", "--json",
                "--temperature", "1.2", "--top-p", "0.95", "--top-k", "50", "--repetition-penalty", "1.1", "--seed", "11"};
        JsonNode a = JSON.readTree(zq(args).out()), b = JSON.readTree(zq(args).out());
        assertEquals(a.get("generated_ids"), b.get("generated_ids"));
    }

    @Test
    void badOptionsAreOneLineAndExitTwo() {
        for (String[] bad : List.of(new String[]{"--temperature", "-1"}, new String[]{"--top-p", "0"},
                new String[]{"--system", "x"}, new String[]{"--max-new-tokens", "-3"})) {
            String[] args = new String[4 + bad.length];
            args[0] = "generate";
            args[1] = SAMPLE.toString();
            args[2] = "--prompt";
            args[3] = "hi";
            System.arraycopy(bad, 0, args, 4, bad.length);
            CliRun r = zq(args);
            assertEquals(2, r.code(), Arrays.toString(bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("zq: "), r.err());
        }
        CliRun both = zq("generate", SAMPLE.toString(), "--prompt", "a", "--prompt-file", "b");
        assertEquals(2, both.code());
    }

    static int[] ints(JsonNode array) {
        int[] v = new int[array.size()];
        for (int i = 0; i < v.length; i++) v[i] = array.get(i).asInt();
        return v;
    }
}
