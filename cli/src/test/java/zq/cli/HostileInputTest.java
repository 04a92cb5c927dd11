package zq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.SafetensorsFile;
import zq.formats.SyntheticModel;
import zq.formats.TensorInfo;

/**
 * The defects of issue 13, one test each, as a hostile or careless user meets them on the command line: every bad input
 * or resource problem is one "zq: ..." line naming what is wrong and exit 2; exit 1 stays the verdict of a quality gate;
 * and nothing the user owns is overwritten.
 */
class HostileInputTest {
    @TempDir Path tmp;

    private static final int VOCAB = 80;

    private Path model(String name, Architecture arch, UnaryOperator<ObjectNode> edit) throws Exception {
        return SyntheticModel.write(tmp.resolve(name), edit.apply(SyntheticModel.config(arch, 32, 64, 2, 4, 2, VOCAB)), DType.BF16, 3);
    }

    private Path model(String name) throws Exception { return model(name, Architecture.LLAMA, c -> c); }

    private Path tokens(String name, int n) throws Exception {
        String ids = IntStream.range(0, n).mapToObj(i -> Integer.toString((i * 37 + 11) % VOCAB)).collect(Collectors.joining(" "));
        return Files.writeString(tmp.resolve(name), ids);
    }

    /** Exit 2 and one error line, "zq: " first, after any progress lines; no stack trace. */
    private static void assertBadInput(CliRun r, String... fragments) {
        assertEquals(Failures.EXIT_BAD_INPUT, r.code(), r.out() + r.err());
        List<String> lines = r.err().lines().filter(l -> !l.matches("zq: (layer |calibration: |warning: |note: ).*")).toList();
        assertEquals(1, lines.size(), "one line: " + r.err());
        String err = lines.get(0);
        assertTrue(err.startsWith("zq: "), err);
        assertFalse(r.err().contains("\tat ") || err.contains("Exception"), r.err());
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- 1. out of memory: exit 2 with the heap used and how to give more, never a stack trace and exit 1

    @Test
    void outOfMemoryIsExit2WithTheHeapAndHowToGiveMore() throws Exception {
        Path root = repoRoot();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // the issue's reproduction: the sample model's perplexity in a 24 MiB heap
        Process p = new ProcessBuilder(java.toString(), "-Xmx24m", "-Xss16m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "ppl", root.resolve("samples/zhinao-tiny").toString(), "--text",
                root.resolve("samples/data/eval.txt").toString(), "--seqlen", "256").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.startsWith("zq: out of memory"), output);
        assertFalse(output.contains("\n") || output.contains("\tat "), "one line, no stack trace: " + output);
        assertTrue(output.matches(".*the Java heap limit is \\d+ MiB \\(\\d+ MiB still in use.*ZQ_JAVA_OPTS=-Xmx\\d+m.*"), output);
    }

    @Test
    void exitCodesSeparateBadInputFromQualityVerdictsAndBugs() {
        assertEquals(2, Failures.exitCode(new OutOfMemoryError("Java heap space")));
        assertEquals(2, Failures.exitCode(new RuntimeException(new OutOfMemoryError("Java heap space"))), "OOM in a worker thread");
        assertEquals(2, Failures.exitCode(new IOException("No space left on device")));
        assertEquals(3, Failures.exitCode(new NullPointerException()), "a bug is neither bad input nor a failed gate");
        assertTrue(Failures.message(new NullPointerException("x")).startsWith("internal error (a bug in zq; set ZQ_DEBUG=1"));
        String m = Failures.outOfMemoryMessage(new OutOfMemoryError("Java heap space"), Runtime.getRuntime());
        long maxMiB = Runtime.getRuntime().maxMemory() >> 20;
        assertTrue(m.contains("heap limit is " + maxMiB + " MiB"), m);
        assertEquals("the value 3 is bad", Failures.oneLine("java.lang.IllegalArgumentException: the value 3 is bad\n at [Source: x]"));
    }

    // ---- 2 and 3. --report: never over an input, complete before the output folder appears

    @Test
    void aReportOverAnInputIsRefusedBeforeAnyWork() throws Exception {
        Path m = model("m");
        Path calib = tokens("calib.tokens", 400);
        byte[] config = Files.readAllBytes(m.resolve("config.json"));
        byte[] calibBytes = Files.readAllBytes(calib);
        Path out = tmp.resolve("q");
        assertBadInput(zq("quantize", m.toString(), "-o", out.toString(), "--method", "rtn", "--group-size", "32", "--report",
                m.resolve("config.json").toString()), "is inside the input folder " + m);
        assertBadInput(zq("quantize", m.toString(), "-o", out.toString(), "--method", "rtn", "--group-size", "32", "--report",
                m.resolve("new-report.json").toString()), "inside the input folder");
        assertBadInput(zq("quantize", m.toString(), "-o", out.toString(), "--calib", calib.toString(), "--nsamples", "2",
                "--seqlen", "16", "--group-size", "32", "--report", calib.toString()), "is an input of this command");
        Path notes = Files.writeString(tmp.resolve("notes.json"), "{\"mine\": true}");
        assertBadInput(zq("quantize", m.toString(), "-o", out.toString(), "--method", "rtn", "--group-size", "32", "--report",
                notes.toString()), "exists and is not a zq report");
        assertArrayEquals(config, Files.readAllBytes(m.resolve("config.json")));
        assertArrayEquals(calibBytes, Files.readAllBytes(calib));
        assertEquals("{\"mine\": true}", Files.readString(notes));
        assertFalse(Files.exists(out), "refused before the output was started");
    }

    @Test
    void aReportIsWrittenBeforeTheOutputAppearsAndReplacesOnlyZqReports() throws Exception {
        Path m = model("m");
        Path report = tmp.resolve("r.json");
        Path out = tmp.resolve("q");
        CliRun first = zq("quantize", m.toString(), "-o", out.toString(), "--method", "rtn", "--group-size", "32", "--report", report.toString());
        assertEquals(0, first.code(), first.err());
        assertTrue(Files.readString(report).startsWith("{\n  \"zq_report\": \"quantize\""), "marked as zq's");
        // a second run may replace its own earlier report
        CliRun second = zq("quantize", m.toString(), "-o", tmp.resolve("q2").toString(), "--method", "rtn", "--group-size", "32",
                "--report", report.toString());
        assertEquals(0, second.code(), second.err());
        assertTrue(Files.readString(report).contains("q2"));

        // missing folder and a folder as the report: refused before any work
        assertBadInput(zq("quantize", m.toString(), "-o", tmp.resolve("q3").toString(), "--method", "rtn", "--group-size", "32",
                "--report", tmp.resolve("no/such/r.json").toString()), "does not exist");
        assertBadInput(zq("quantize", m.toString(), "-o", tmp.resolve("q3").toString(), "--method", "rtn", "--group-size", "32",
                "--report", tmp.toString()), "is a folder");
        assertFalse(Files.exists(tmp.resolve("q3")));

        // a report that cannot be written at the end (here its temporary file is blocked, as a full disk would) fails the
        // run before the output folder is renamed into place
        Path blocked = tmp.resolve("blocked.json");
        Path temp = Files.createDirectories(tmp.resolve(".blocked.json.partial-" + ProcessHandle.current().pid()));
        Files.writeString(temp.resolve("x"), "x");
        CliRun r = zq("quantize", m.toString(), "-o", tmp.resolve("q4").toString(), "--method", "rtn", "--group-size", "32",
                "--report", blocked.toString());
        assertBadInput(r, blocked + ": cannot write the report");
        assertFalse(Files.exists(tmp.resolve("q4")), "no output folder without its report");
        assertFalse(Files.exists(blocked));
        assertTrue(names(tmp).stream().noneMatch(n -> n.startsWith(".q4.partial-")), names(tmp).toString());
    }

    // ---- 4. a perplexity that is not a number is never exit 0

    @Test
    void aNegativeEpsilonIsRefused() throws Exception {
        Path m = model("eps");
        Files.writeString(m.resolve("config.json"), Files.readString(m.resolve("config.json")).replaceAll("\"rms_norm_eps\": [^,\n]+", "\"rms_norm_eps\": -1"));
        assertBadInput(zq("ppl", m.toString(), "--tokens", tokens("t.tokens", 200).toString(), "--seqlen", "32"),
                "rms_norm_eps' must be in (0, 1), got -1.0");
    }

    @Test
    void aNonFinitePerplexityIsExit2NamingTheLikelyCause() throws Exception {
        Path m = model("m");
        // norm weights of 3e38 are finite bf16, but the logits they make overflow fp32: a model whose ppl is NaN
        Path huge = copyWith(m, "huge", "model.norm.weight", v -> Arrays.fill(v, 3e38f));
        CliRun r = zq("ppl", huge.toString(), "--tokens", tokens("t.tokens", 200).toString(), "--seqlen", "32");
        assertBadInput(r, "perplexity is", "not finite", "likely causes");
        assertFalse(r.out().contains("PPL"), r.out());
        CliRun v = zq("validate", "--baseline", m.toString(), "--candidate", huge.toString(), "--tokens",
                tokens("t.tokens", 200).toString(), "--seqlen", "32", "--max-ppl-ratio", "2");
        assertBadInput(v, huge + ": perplexity is");
    }

    // ---- 5. --seqlen against the model and the text

    @Test
    void seqlenIsCheckedAgainstMaxPositionsAndTheText() throws Exception {
        Path m = model("short", Architecture.LLAMA, c -> c.put("max_position_embeddings", 64));
        Path t = tokens("t.tokens", 500);
        assertBadInput(zq("ppl", m.toString(), "--tokens", t.toString(), "--seqlen", "128"), "--seqlen 128", "max_position_embeddings 64");
        assertBadInput(zq("ppl", m.toString(), "--tokens", tokens("few.tokens", 40).toString(), "--seqlen", "64"),
                "the text has 40 tokens, fewer than one window of --seqlen 64");
        assertBadInput(zq("quantize", m.toString(), "-o", tmp.resolve("q").toString(), "--calib", t.toString(), "--seqlen", "128",
                "--group-size", "32"), "--seqlen 128 exceeds max_position_embeddings 64");
        assertEquals(0, zq("ppl", m.toString(), "--tokens", t.toString(), "--seqlen", "64").code());
    }

    // ---- 7. convert and inspect refuse what quantize and ppl refuse

    @Test
    void convertAndInspectRefuseNonFiniteWeights() throws Exception {
        Path m = model("m");
        Path nan = tmp.resolve("nan");
        copyTree(m, nan);
        patch(nan, "model.layers.1.mlp.up_proj.weight", 10, new byte[] {(byte) 0xC0, 0x7F}); // bf16 NaN, element 5
        String where = "tensor 'model.layers.1.mlp.up_proj.weight' has a non-finite value (NaN or infinity) at flat index 5";
        assertBadInput(zq("convert", nan.toString(), "-o", tmp.resolve("f16").toString(), "--dtype", "f16"), where);
        assertBadInput(zq("convert", nan.toString(), "-o", tmp.resolve("rope").toString(), "--rope-base", "1e6"), where);
        assertBadInput(zq("inspect", nan.toString()), where);
        assertEquals(0, zq("inspect", nan.toString(), "--no-values").code(), "shapes alone are fine");
        assertFalse(Files.exists(tmp.resolve("f16")) || Files.exists(tmp.resolve("rope")));
        assertEquals(0, zq("convert", m.toString(), "-o", tmp.resolve("ok").toString(), "--dtype", "f16").code(), "the clean model converts");
    }

    @Test
    void convertAndInspectRefuseAGroupIndexOutsideTheScales() throws Exception {
        Path dense = model("z", Architecture.ZHINAO, c -> c);
        Path gptq = tmp.resolve("gptq");
        assertEquals(0, zq("quantize", dense.toString(), "-o", gptq.toString(), "--method", "rtn", "--group-size", "32").code());
        // qkv_proj reads 32 columns in groups of 32: one group, so g_idx 1 names a group that does not exist
        patch(gptq, "model.layers.0.self_attn.qkv_proj.g_idx", 4 * 3, intLe(1));
        String where = "tensor 'model.layers.0.self_attn.qkv_proj.g_idx' has g_idx[3] = 1, outside the 1 groups";
        assertBadInput(zq("convert", gptq.toString(), "-o", tmp.resolve("qwen2").toString(), "--to", "qwen2"), where);
        assertBadInput(zq("inspect", gptq.toString()), where);
        assertFalse(Files.exists(tmp.resolve("qwen2")));
    }

    // ---- 8. messages that say what is wrong

    @Test
    void truncatedCompressedInputsMalformedJsonAndNegativeIdsAreNamed() throws Exception {
        Path m = model("m");
        byte[] gz = gzip(Files.readString(tokens("t.tokens", 300)));
        Path truncated = Files.write(tmp.resolve("t.tokens.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertBadInput(zq("ppl", m.toString(), "--tokens", truncated.toString(), "--seqlen", "32"), truncated + " line", "truncated");
        byte[] textGz = gzip(IntStream.range(0, 3000).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        Path text = Files.write(tmp.resolve("e.txt.gz"), Arrays.copyOf(textGz, textGz.length / 2));
        assertBadInput(zq("tokenize", repoRoot().resolve("samples/zhinao-tiny").toString(), "--file", text.toString()), text + ": truncated");

        Path badJson = tmp.resolve("badjson");
        copyTree(m, badJson);
        Files.writeString(badJson.resolve("config.json"), "{\n  \"hidden_size\": 32,\n  \"vocab_size\" 80\n}\n");
        CliRun r = zq("inspect", badJson.toString());
        assertBadInput(r, badJson.resolve("config.json") + ": not valid JSON: ", "(line 3, column");
        assertFalse(r.err().contains("Source:"), r.err());

        Path negative = Files.writeString(tmp.resolve("neg.tokens"), "1 2 3\n4 -5 6\n");
        assertBadInput(zq("quantize", m.toString(), "-o", tmp.resolve("q").toString(), "--calib", negative.toString(), "--nsamples", "1",
                "--seqlen", "2", "--group-size", "32"), negative + " line 2: token id -5 is negative");
    }

    // ---- 9. -o: an existing folder (even empty), a symlink

    @Test
    void anExistingEmptyOutputFolderOrALinkIsRefusedBeforeAnyWork() throws Exception {
        Path m = model("m");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertBadInput(zq("quantize", m.toString(), "-o", empty.toString(), "--method", "rtn", "--group-size", "32"),
                empty + ": output folder already exists (empty");
        Path target = Files.createDirectory(tmp.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
        assertBadInput(zq("convert", m.toString(), "-o", link.toString(), "--dtype", "f16"), link + ": is a symbolic link");
        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        assertEquals(List.of(), names(target));
        assertEquals(List.of(), names(empty));
    }

    // ---- 10. the launcher through a symlink

    @Test
    void theLauncherCalledThroughASymlinkRunsFromTheRepository() throws Exception {
        Path root = repoRoot();
        // stand-ins for java and mvn that print what they were asked, so nothing is built or run for real
        Path fakeHome = Files.createDirectories(tmp.resolve("jdk/bin"));
        Path fakeJava = Files.writeString(fakeHome.resolve("java"), "#!/bin/sh\necho \"java $*\"\n");
        Path fakeBin = Files.createDirectories(tmp.resolve("bin"));
        Path fakeMvn = Files.writeString(fakeBin.resolve("mvn"), "#!/bin/sh\necho \"mvn in $(pwd)\" >&2\n");
        for (Path p : List.of(fakeJava, fakeMvn)) p.toFile().setExecutable(true);
        Path link = Files.createSymbolicLink(Files.createDirectories(tmp.resolve("links")).resolve("zq"), root.resolve("zq"));
        ProcessBuilder pb = new ProcessBuilder(link.toString(), "--version").redirectErrorStream(true).directory(tmp.toFile());
        pb.environment().put("JAVA_HOME", tmp.resolve("jdk").toString());
        pb.environment().put("PATH", fakeBin + ":" + tmp.resolve("jdk/bin") + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("-jar " + root.resolve("cli/target/zq.jar") + " --version"), out);
        for (String line : out.lines().filter(l -> l.startsWith("mvn in ")).toList()) {
            assertEquals("mvn in " + root, line, "Maven builds in the repository, not in the link's folder");
        }
    }

    // ---- 11. inconsistencies that two loaders would read two ways

    @Test
    void inconsistentFoldersAreRefused() throws Exception {
        Path dense = model("m");
        Path gptq = tmp.resolve("gptq");
        assertEquals(0, zq("quantize", dense.toString(), "-o", gptq.toString(), "--method", "rtn", "--group-size", "32").code());
        String q = Files.readString(gptq.resolve(ModelConfig.QUANTIZE_CONFIG));
        Files.writeString(gptq.resolve(ModelConfig.QUANTIZE_CONFIG), q.replace("\"group_size\": 32", "\"group_size\": 128"));
        assertBadInput(zq("inspect", gptq.toString()), "quantize_config.json: group_size 128 (config.json: 32) disagrees");

        Path sharded = SyntheticModel.write(tmp.resolve("sharded"), SyntheticModel.config(Architecture.LLAMA, 32, 64, 2, 4, 2, VOCAB),
                DType.BF16, 3, 20_000);
        Files.copy(dense.resolve("model.safetensors"), sharded.resolve("model.safetensors"));
        assertBadInput(zq("inspect", sharded.toString()), "has both model.safetensors and model.safetensors.index.json");

        // id 85 >= vocab 80 sits at the very end, where no 16-token window of this seed starts
        Path calib = Files.writeString(tmp.resolve("c.tokens"), Files.readString(tokens("base.tokens", 400)) + " 85");
        assertBadInput(zq("quantize", dense.toString(), "-o", tmp.resolve("q").toString(), "--calib", calib.toString(), "--nsamples", "2",
                "--seqlen", "16", "--group-size", "32"), calib + ": token 400 has id 85, outside the vocabulary");
    }

    // ---- helpers

    static Path repoRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("oracles")) && Files.isRegularFile(p.resolve("zq"))) return p;
        }
        throw new IllegalStateException("repository root not found above " + System.getProperty("user.dir"));
    }

    private static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(b)) {
            out.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    private static byte[] intLe(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName().toString()));
        }
    }

    /** Overwrites bytes of one tensor in place, at {@code offset} bytes into its data. */
    private static void patch(Path dir, String tensor, long offset, byte[] bytes) throws IOException {
        Path file = dir.resolve("model.safetensors");
        long begin;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            begin = f.require(tensor).begin();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            ch.write(ByteBuffer.wrap(bytes), 8 + len.getLong(0) + begin + offset);
        }
    }

    /** A copy of {@code src} with one tensor's fp32 values changed by {@code change}. */
    private Path copyWith(Path src, String name, String tensor, java.util.function.Consumer<float[]> change) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        List<zq.formats.SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (zq.formats.Checkpoint ck = zq.formats.Checkpoint.open(src)) {
            for (String n : ck.tensorNames()) {
                TensorInfo t = ck.info(n);
                float[] v = ck.floats(n);
                if (n.equals(tensor)) change.accept(v);
                entries.add(new zq.formats.SafetensorsWriter.Entry(n, DType.F32, t.shape(), zq.formats.TensorData.floats(v, DType.F32)));
            }
            zq.formats.ShardedWriter.write(dir, zq.formats.SafetensorsWriter.defaultMetadata(), entries,
                    zq.formats.ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
            ModelConfig.write(ck.config().json(), dir.resolve("config.json"));
        }
        return dir;
    }
}
