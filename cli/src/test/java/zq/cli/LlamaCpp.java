package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real llama.cpp, through node-llama-cpp's prebuilt CPU library ({@code oracles/llama-eval.mjs}):
 * next-token logits of token windows and llama.cpp's tokenization, for a GGUF file. A missing
 * {@code oracles/node_modules} fails the test (it is never skipped): {@code ./test} installs it.
 */
final class LlamaCpp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LlamaCpp() {}

    /** Logits of every position but the last of each window, rows of {@code vocab}, windows one after another. */
    record Logits(int vocab, float[] values) {
        int rows() { return values.length / vocab; }
    }

    static Path oracles() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("oracles"))) dir = dir.getParent();
        if (dir == null) fail("no oracles/ folder above " + System.getProperty("user.dir"));
        Path oracles = dir.resolve("oracles");
        if (!Files.isDirectory(oracles.resolve("node_modules/node-llama-cpp"))) {
            fail("oracles/node_modules/node-llama-cpp is missing: run ./test in the repository root (it installs the npm test oracles)");
        }
        return oracles;
    }

    static Logits logits(Path gguf, List<int[]> windows, Path work) throws Exception {
        return logits(List.of(gguf), windows, work).get(0);
    }

    /** The same windows through several models in one llama.cpp process. */
    static List<Logits> logits(List<Path> ggufs, List<int[]> windows, Path work) throws Exception {
        List<ObjectNode> jobs = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (Path gguf : ggufs) {
            Path out = Files.createTempFile(work, "logits", ".bin");
            ObjectNode job = JSON.createObjectNode().put("model", gguf.toString()).put("logits", out.toString());
            ArrayNode ws = job.putArray("windows");
            for (int[] w : windows) {
                ArrayNode a = ws.addArray();
                for (int t : w) a.add(t);
            }
            jobs.add(job);
            outs.add(out);
        }
        List<String> lines = run(jobs, work);
        List<Logits> result = new ArrayList<>();
        for (int i = 0; i < outs.size(); i++) {
            int vocab = JSON.readTree(lines.get(i)).get("vocab").asInt();
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(outs.get(i))).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[b.remaining() / 4];
            b.asFloatBuffer().get(v);
            result.add(new Logits(vocab, v));
        }
        return result;
    }

    static List<int[]> tokenize(Path gguf, List<String> texts, Path work) throws Exception {
        Path out = Files.createTempFile(work, "ids", ".json");
        ObjectNode job = JSON.createObjectNode().put("model", gguf.toString()).put("tokenize", out.toString());
        ArrayNode ts = job.putArray("texts");
        texts.forEach(ts::add);
        run(List.of(job), work);
        List<int[]> ids = new ArrayList<>();
        for (var a : JSON.readTree(out.toFile())) {
            int[] x = new int[a.size()];
            for (int i = 0; i < x.length; i++) x[i] = a.get(i).asInt();
            ids.add(x);
        }
        return ids;
    }

    /** Runs the jobs; returns the last {@code jobs.size()} lines llama-eval.mjs printed, one per job. */
    private static List<String> run(List<ObjectNode> jobs, Path work) throws IOException, InterruptedException {
        Path oracles = oracles();
        Path request = Files.createTempFile(work, "request", ".json");
        JSON.writeValue(request.toFile(), jobs);
        Path log = Files.createTempFile(work, "node", ".log");
        Process p = new ProcessBuilder("node", oracles.resolve("llama-eval.mjs").toString(), request.toString())
                .directory(oracles.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("llama.cpp (node llama-eval.mjs) did not finish in 300 s");
        }
        String output = Files.readString(log);
        if (p.exitValue() != 0) fail("llama.cpp (node llama-eval.mjs) failed with exit " + p.exitValue() + ":\n" + output);
        List<String> lines = List.of(output.strip().split("\n"));
        return lines.subList(lines.size() - jobs.size(), lines.size());
    }
}
