package zq.formats.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Test-only bridge to Hugging Face's JavaScript implementations ({@code @huggingface/tokenizers},
 * {@code @huggingface/jinja}) through {@code oracles/hf-js.mjs}. Fails, never skips, when node or
 * {@code oracles/node_modules} is missing: the oracles are part of the test suite ({@code ./test}
 * installs them).
 */
final class HfJsOracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfJsOracle() {}

    /** The folder holding {@code oracles/}, found by walking up from the working directory. */
    static Path repoRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("oracles"))) return p;
        }
        throw new AssertionError("no oracles/ folder above " + System.getProperty("user.dir"));
    }

    /** Runs {@code hf-js.mjs} on {@code request} and returns its answer. */
    static JsonNode run(ObjectNode request) throws IOException, InterruptedException {
        Path oracles = repoRoot().resolve("oracles");
        Path modules = oracles.resolve("node_modules");
        for (String pkg : List.of("@huggingface/tokenizers", "@huggingface/jinja")) {
            if (!Files.isDirectory(modules.resolve(pkg))) {
                throw new AssertionError("the test oracle " + pkg + " is not installed in " + modules + ": run ./test");
            }
        }
        Path in = Files.createTempFile("zq-hf-js", ".json");
        Path err = Files.createTempFile("zq-hf-js", ".err");
        try {
            Files.writeString(in, JSON.writeValueAsString(request), StandardCharsets.UTF_8);
            Process p = new ProcessBuilder("node", "hf-js.mjs").directory(oracles.toFile())
                    .redirectInput(in.toFile()).redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("oracles/hf-js.mjs did not finish in 60 s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("oracles/hf-js.mjs failed with exit code " + p.exitValue() + ":\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return JSON.readTree(out);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("\"node\"")) {
                throw new AssertionError("node (20+) is needed for the test oracles and is not on PATH", e);
            }
            throw e;
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(err);
        }
    }

    static ObjectNode request(Path tokenizerJson, Path tokenizerConfig) {
        ObjectNode r = JSON.createObjectNode();
        r.put("tokenizer", tokenizerJson.toAbsolutePath().toString());
        if (tokenizerConfig != null) r.put("config", tokenizerConfig.toAbsolutePath().toString());
        return r;
    }

    static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = array.get(i).asInt();
        return ids;
    }
}
