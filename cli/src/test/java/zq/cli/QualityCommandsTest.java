package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.SyntheticModel;
import zq.formats.TensorData;
import zq.formats.TensorInfo;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static zq.cli.CliRun.zq;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zq ppl} and {@code zq validate} end to end on tiny synthetic models. */
class QualityCommandsTest {
    @TempDir Path tmp;

    private static ObjectNode config(int vocab) {
        return SyntheticModel.config(Architecture.LLAMA, 32, 64, 2, 4, 2, vocab);
    }

    private Path model(String name, DType dtype) throws Exception {
        return SyntheticModel.write(tmp.resolve(name), config(80), dtype, 3);
    }

    /** A copy of {@code src} whose lm_head is all zeros: every next token is equally likely. */
    private Path uniformCopy(Path src) throws Exception {
        Path dir = tmp.resolve("uniform");
        Files.createDirectories(dir);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (Checkpoint ck = Checkpoint.open(src)) {
            for (String name : ck.tensorNames()) {
                TensorInfo t = ck.info(name);
                float[] v = name.equals("lm_head.weight") ? new float[(int) t.numel()] : ck.floats(name);
                entries.add(new SafetensorsWriter.Entry(name, DType.F32, t.shape(), TensorData.floats(v, DType.F32)));
            }
            ShardedWriter.write(dir, SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            ModelConfig.write(ck.config().json(), dir.resolve("config.json"));
        }
        return dir;
    }

    private Path tokens(int n, int vocab) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append((i * 37 + 11) % vocab).append(i % 10 == 9 ? "\n" : " ");
        return Files.writeString(tmp.resolve("tokens-" + n + ".txt"), b.toString());
    }

    @Test
    void pplOfAUniformModelIsTheVocabularySize() throws Exception {
        Path uniform = uniformCopy(model("m", DType.F32));
        CliRun r = zq("ppl", uniform.toString(), "--tokens", tokens(30, 80).toString(), "--seqlen", "8", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(80.0, j.get("ppl").asDouble(), 1e-9);
        assertEquals(26, j.get("tokens").asInt()); // windows 8, 8, 8, 6
        assertEquals(4, j.get("windows").asInt());
        assertEquals(8, j.get("seqlen").asInt());

        CliRun two = zq("ppl", uniform.toString(), "--tokens", tokens(30, 80).toString(), "--seqlen", "8", "--max-windows", "2");
        assertEquals(0, two.code(), two.err());
        assertTrue(two.out().startsWith("PPL = 80.0000"), two.out());
        assertTrue(two.out().contains("14 predicted tokens, 2 windows of seqlen 8"), two.out());
    }

    @Test
    void pplRefusesBadInputWithExitTwo() throws Exception {
        Path m = model("m", DType.F32);
        Path text = Files.writeString(tmp.resolve("t.txt"), "hello");
        CliRun r = zq("ppl", m.toString(), "--text", text.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("zq: ") && r.err().contains(m.toString()), r.err()); // the model has no tokenizer

        Path bad = Files.writeString(tmp.resolve("bad.txt"), "1 2 three");
        CliRun b = zq("ppl", m.toString(), "--tokens", bad.toString());
        assertEquals(2, b.code());
        assertEquals("zq: " + bad + " line 1: 'three' is not a token id\n", b.err());

        CliRun out = zq("ppl", m.toString(), "--tokens", Files.writeString(tmp.resolve("big.txt"), "1 2 80").toString());
        assertEquals(2, out.code());
        assertTrue(out.err().contains("token 2 has id 80, outside the vocabulary of " + m), out.err());

        CliRun none = zq("ppl", m.toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Error: Missing required argument"), none.err());

        CliRun missing = zq("ppl", tmp.resolve("nope").toString(), "--tokens", tokens(10, 80).toString());
        assertEquals(2, missing.code());
        assertEquals("zq: " + tmp.resolve("nope") + ": not a model folder\n", missing.err());

        CliRun zero = zq("ppl", m.toString(), "--tokens", tokens(10, 80).toString(), "--max-windows", "0");
        assertEquals(2, zero.code());
        assertEquals("zq: --max-windows must be at least 1, got 0\n", zero.err());
    }

    @Test
    void validateOfAModelAgainstItselfPasses() throws Exception {
        Path m = model("m", DType.F32);
        CliRun r = zq("validate", "--baseline", m.toString(), "--candidate", m.toString(), "--tokens", tokens(30, 80).toString(),
                "--seqlen", "8", "--max-ppl-ratio", "1.0", "--max-kld", "0", "--min-top1", "1", "--json");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(1.0, j.get("ppl_ratio").asDouble());
        assertEquals(0.0, j.get("kld_mean").asDouble());
        assertEquals(1.0, j.get("top1_agreement").asDouble());
        assertEquals(j.get("ppl_baseline").asDouble(), j.get("ppl_candidate").asDouble());
        assertTrue(j.get("pass").asBoolean());
        assertEquals(26, j.get("tokens").asInt());
    }

    @Test
    void validateAgainstAPerturbedCopyFailsATightThresholdWithExitOne() throws Exception {
        Path base = model("base", DType.F32), cand = model("cand", DType.BF16); // same weights rounded to bf16
        CliRun r = zq("validate", "--baseline", base.toString(), "--candidate", cand.toString(), "--tokens",
                tokens(30, 80).toString(), "--seqlen", "8", "--max-kld", "1e-12", "--max-ppl-ratio", "2");
        assertEquals(1, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("FAIL: mean KLD"), r.out());
        assertTrue(!r.out().contains("FAIL: ppl ratio"), r.out());
        assertTrue(r.out().contains("Mean PPL(Q)/PPL(base)"), r.out());

        CliRun json = zq("validate", "--baseline", base.toString(), "--candidate", cand.toString(), "--tokens",
                tokens(30, 80).toString(), "--seqlen", "8", "--max-kld", "1e-12", "--json");
        assertEquals(1, json.code());
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertTrue(!j.get("pass").asBoolean());
        assertTrue(j.get("failures").get(0).asText().startsWith("mean KLD"), json.out());
    }

    @Test
    void validateRefusesBadInputWithExitTwo() throws Exception {
        Path a = model("a", DType.F32);
        Path b = SyntheticModel.write(tmp.resolve("b"), config(81), DType.F32, 3);
        CliRun r = zq("validate", "--baseline", a.toString(), "--candidate", b.toString(), "--tokens", tokens(10, 80).toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("zq: baseline " + a + " has vocab_size 80 but candidate " + b + " has 81"), r.err());

        CliRun t = zq("validate", "--baseline", a.toString(), "--candidate", a.toString(), "--tokens", tokens(10, 80).toString(),
                "--min-top1", "95");
        assertEquals(2, t.code());
        assertEquals("zq: --min-top1 is a fraction between 0 and 1 (e.g. 0.95 for 95 %), got 95.0\n", t.err());
    }

    /**
     * The bundled sample scored from its text: transformers 5.17 (the Qwen2 conversion, float64) and the
     * sample's own PyTorch trainer both give ppl 158.43593 over 40 windows of 256 (10138 predicted tokens).
     */
    @Test
    void sampleTextPerplexityMatchesTransformers() throws Exception {
        CliRun r = zq("ppl", "../samples/zhinao-tiny", "--text", "../samples/data/eval.txt", "--seqlen", "256", "--json");
        assertEquals(0, r.code(), r.err());
        var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals(10138, j.get("tokens").asInt());
        assertEquals(40, j.get("windows").asInt());
        assertEquals(158.435935, j.get("ppl").asDouble(), 158.435935 * 2e-5);
    }
}
