package zq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static zq.cli.CliRun.zq;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;

/** {@code zq quantize} end to end on tiny synthetic models. */
class QuantizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    /** hidden 64, intermediate 128 (down_proj reads 128 columns), 2 layers, vocab 80. */
    private Path model(int intermediate) throws Exception {
        return SyntheticModel.write(tmp.resolve("m" + intermediate), SyntheticModel.config(Architecture.LLAMA, 64, intermediate, 2, 4, 2, 80),
                DType.BF16, 3);
    }

    private Path tokens() throws Exception {
        String ids = IntStream.range(0, 400).mapToObj(i -> Integer.toString((i * 37 + 11) % 80)).collect(Collectors.joining(" "));
        return Files.writeString(tmp.resolve("calib.tokens"), ids);
    }

    /** 4 windows of 16 tokens, group size 32 unless {@code more} gives one. */
    private String[] gptqArgs(Path in, Path out, String... more) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("quantize", in.toString(), "-o", out.toString(), "--calib", tokens().toString()));
        String[][] defaults = {{"--nsamples", "4"}, {"--seqlen", "16"}, {"--hessian", "cpu"}, {"--group-size", "32"}};
        for (String[] d : defaults) if (!List.of(more).contains(d[0])) a.addAll(List.of(d));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void gptqWritesTheModelTheJsonSummaryAndTheReport() throws Exception {
        Path out = tmp.resolve("q");
        Path report = tmp.resolve("report.json");
        CliRun r = zq(gptqArgs(model(128), out, "--json", "--report", report.toString(), "--sym", "--no-desc-act"));
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(r.out());
        assertEquals("gptq", s.get("method").asText());
        assertEquals("gptq", s.get("checkpoint_format").asText());
        assertEquals(32, s.get("group_size").asInt());
        assertFalse(s.get("desc_act").asBoolean(), "desc_act defaults to off");
        assertTrue(s.get("sym").asBoolean());
        assertTrue(s.get("true_sequential").asBoolean());
        assertEquals(0.01, s.get("damp_percent").asDouble());
        assertEquals(64, s.get("calibration").get("tokens").asLong(), "4 windows of 16 tokens");
        assertEquals(2, s.get("layers").asInt());
        assertEquals(14, s.get("modules").asInt());
        assertEquals(List.of("read", "forward", "hessian", "solve", "pack", "write"), fieldNames(s.get("seconds_by_phase")));
        assertEquals(1.0, s.get("forwards_per_layer").asDouble(), "true-sequential with every stage input kept: one forward per layer");
        assertTrue(s.get("peak_heap_bytes").asLong() > 0);

        JsonNode rep = JSON.readTree(report.toFile());
        assertEquals(14, rep.get("module_reports").size());
        JsonNode first = rep.get("module_reports").get(0);
        assertEquals("model.layers.0.self_attn.q_proj", first.get("name").asText());
        assertEquals(0.01, first.get("damp_percent").asDouble());
        assertEquals(64, first.get("hessian_tokens").asLong());
        assertTrue(first.get("loss").isNumber() && first.get("loss").asDouble() >= 0);

        assertTrue(r.err().contains("zq: layer 1/2 self_attn.q_proj"), r.err());
        assertTrue(r.err().contains("zq: layer 2/2 done"), r.err());
        assertTrue(r.err().contains("ETA"), r.err());
        int work = r.err().indexOf("zq: work: "), firstLayer = r.err().indexOf("zq: layer 1/2");
        assertTrue(work >= 0 && work < firstLayer, "the estimate comes before the first layer: " + r.err());
        assertTrue(r.err().contains("over 64 calibration tokens; at this machine's sgemm rate"), r.err());
        try (Checkpoint ck = Checkpoint.open(out)) {
            assertTrue(ck.config().isQuantized());
        }
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void roundToNearestNeedsNoCalibration() throws Exception {
        Path out = tmp.resolve("rtn");
        CliRun r = zq("quantize", model(128).toString(), "-o", out.toString(), "--method", "rtn", "--group-size", "-1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GPTQ Int4 (rtn)"), r.out());
        JsonNode q = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertEquals(-1, q.get("group_size").asInt());
        assertEquals("rtn", q.get("meta").get("method").asText());
        try (Checkpoint ck = Checkpoint.open(out)) {
            for (int g : ck.ints("model.layers.1.mlp.down_proj.g_idx")) assertEquals(0, g, "one group per row");
        }
    }

    @Test
    void negatableOptionsReachTheConfig() throws Exception {
        Path out = tmp.resolve("q");
        CliRun r = zq(gptqArgs(model(128), out, "--desc-act", "--static-groups", "--no-true-sequential", "--damp", "0.05"));
        assertEquals(0, r.code(), r.err());
        JsonNode q = JSON.readTree(out.resolve("quantize_config.json").toFile());
        assertTrue(q.get("desc_act").asBoolean());
        assertTrue(q.get("static_groups").asBoolean());
        assertFalse(q.get("true_sequential").asBoolean());
        assertEquals(0.05, q.get("damp_percent").asDouble());
        try (Checkpoint ck = Checkpoint.open(out)) {
            int[] gIdx = ck.ints("model.layers.0.mlp.down_proj.g_idx");
            for (int j = 0; j < gIdx.length; j++) assertEquals(j / 32, gIdx[j], "static groups keep g_idx = j / 32");
        }
    }

    @Test
    void noSymWritesGptqV2AndSaysAutoGptqWillNotLoadIt() throws Exception {
        Path out = tmp.resolve("q");
        CliRun r = zq(gptqArgs(model(128), out, "--no-sym"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("zq: warning: asymmetric quantization (--no-sym) is written as checkpoint_format gptq_v2"), r.err());
        assertTrue(r.err().contains("AutoGPTQ will NOT load"), r.err());
        assertEquals("gptq_v2", JSON.readTree(out.resolve("quantize_config.json").toFile()).get("checkpoint_format").asText());
        assertFalse(JSON.readTree(out.resolve("config.json").toFile()).get("quantization_config").get("sym").asBoolean());
    }

    @Test
    void badInputIsRefusedWithExitCode2() throws Exception {
        Path in = model(128);
        CliRun noCalib = zq("quantize", in.toString(), "-o", tmp.resolve("a").toString());
        assertEquals(2, noCalib.code());
        assertTrue(noCalib.err().contains("--method gptq needs calibration data: --calib FILE"), noCalib.err());

        CliRun group = zq(gptqArgs(model(96), tmp.resolve("b"), "--group-size", "64"));
        assertEquals(2, group.code());
        assertTrue(group.err().contains("model.layers.0.mlp.down_proj: group_size 64 does not divide in_features 96"), group.err());
        assertFalse(Files.exists(tmp.resolve("b")));

        CliRun shard = zq(gptqArgs(in, tmp.resolve("c"), "--max-shard-size", "huge"));
        assertEquals(2, shard.code());
        assertTrue(shard.err().contains("--max-shard-size 'huge' is not a size"), shard.err());

        CliRun method = zq(gptqArgs(in, tmp.resolve("d"), "--method", "awq"));
        assertEquals(2, method.code());
        assertTrue(method.err().contains("unknown quantization method 'awq'"), method.err());

        CliRun bits = zq(gptqArgs(in, tmp.resolve("e"), "--bits", "3"));
        assertEquals(2, bits.code());
        assertTrue(bits.err().contains("bits=3 is not supported"), bits.err());

        CliRun report = zq(gptqArgs(in, tmp.resolve("f"), "--report", tmp.resolve("f/report.json").toString()));
        assertEquals(2, report.code());
        assertTrue(report.err().contains("must not be inside the output folder"), report.err());
        assertEquals(1, report.err().lines().count(), "refused before the calibration is read: " + report.err());

        Path existing = Files.createDirectories(tmp.resolve("g"));
        Files.writeString(existing.resolve("keep.txt"), "mine");
        CliRun exists = zq(gptqArgs(in, existing));
        assertEquals(2, exists.code());
        assertTrue(exists.err().contains("output folder already exists"), exists.err());
        assertEquals("mine", Files.readString(existing.resolve("keep.txt")));

        // 400 tokens hold 25 disjoint windows of 16; 26 overlap
        CliRun windows = zq(gptqArgs(in, tmp.resolve("h"), "--nsamples", "26"));
        assertEquals(2, windows.code());
        assertTrue(windows.err().contains("has 400 tokens: 25 disjoint windows of seqlen 16 fit, 26 were asked for"), windows.err());
        assertFalse(Files.exists(tmp.resolve("h")));
    }

    /** --hessian auto asks for an OpenCL GPU where Aparapi's native warnings cannot reach this process's stderr. */
    @Test
    void autoHessianPrintsNoAparapiWarningWhenItUsesTheCpu() throws Exception {
        CliRun r = zq(gptqArgs(model(128), tmp.resolve("q"), "--hessian", "auto"));
        assertEquals(0, r.code(), r.err());
        if (zq.gptq.hessian.HessianBackend.AUTO.resolve() == zq.gptq.hessian.HessianBackend.CPU) {
            assertFalse(r.err().contains("Aparapi"), r.err());
        }
    }
}
