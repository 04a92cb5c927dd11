package zq.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.CheckpointValues;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.SafetensorsFile;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;
import zq.formats.TensorData;
import zq.formats.SyntheticModel;
import zq.formats.TensorInfo;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.GgufFile;
import zq.formats.gguf.GgufMetadata;
import zq.formats.gguf.GgufTensorInfo;
import zq.formats.gguf.GgufValue;
import zq.formats.gguf.GgufWriter;
import zq.formats.text.CorpusFormat;
import zq.formats.text.TextCorpus;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.formats.tokenizer.TokenizerSeeds;

/**
 * A seeded mutation fuzzer over every reader of user input. Each {@link Target} is one file of a valid fixture and the
 * reader that consumes it; every mutated input must either be refused with zq's own error (a {@link CheckpointException}
 * whose one-line message names the file's folder) or be accepted and then read to the end (every tensor decoded, the
 * tokenizer run on text). Any other outcome - another exception, an Error, a hang - is a failure, reported with the
 * target, the input number and the mutated bytes saved under target/fuzz-failures for replay.
 *
 * <p>Budget: {@code -Dzq.fuzz.inputs} (default 12000) mutated inputs per target, and at most {@code -Dzq.fuzz.seconds}
 * (default 120) shared equally by the targets; {@code -Dzq.fuzz.seed} (default 13) fixes the mutations, so a failure
 * replays. The input count is the main bound so that a run on an idle machine tries the same inputs as one on a busy
 * machine (or a prefix of them, where the time runs out first), never a longer, unvetted sequence. A reader added to zq is one more {@link Target} in {@link #targets}.
 */
class ReaderFuzzTest {
    static final double SECONDS = Double.parseDouble(System.getProperty("zq.fuzz.seconds", "120"));
    static final long SEED = Long.getLong("zq.fuzz.seed", 13);
    static final long INPUTS = Long.getLong("zq.fuzz.inputs", 12000);
    /** Longer than any reader takes on these few-kB inputs even on a loaded machine; beyond it an input hangs a reader. */
    static final long HANG_SECONDS = 20;
    static final String SAMPLE_TEXT = "Hello world, 你好世界! 123 4567\n  def f(x): return x**2\t<|endoftext|> héllo";

    /** Reads {@code file} (or the fixture folder it lies in) to the end, or throws. */
    interface Reader {
        void read(Path file) throws Exception;
    }

    /**
     * @param file  the fixture file the mutations replace
     * @param seed  its valid bytes
     * @param from  mutations fall in bytes [from, to) (the rest is kept around them): a binary header, one tensor's data
     */
    record Target(String name, Path file, byte[] seed, int from, int to, Reader reader) {
        static Target of(String name, Path file, Reader reader) throws IOException {
            byte[] b = Files.readAllBytes(file);
            return new Target(name, file, b, 0, b.length, reader);
        }

        /** The seed with bytes [from, to) mutated and the rest unchanged around them. */
        byte[] mutated(SplittableRandom r) {
            byte[] mid = Mutator.mutate(java.util.Arrays.copyOfRange(seed, from, to), r);
            byte[] out = new byte[from + mid.length + seed.length - to];
            System.arraycopy(seed, 0, out, 0, from);
            System.arraycopy(mid, 0, out, from, mid.length);
            System.arraycopy(seed, to, out, from + mid.length, seed.length - to);
            return out;
        }
    }

    record Tally(String target, long inputs, long accepted, long refused, List<String> failures, boolean hung) {}

    @TempDir static Path work;
    static ExecutorService runner;

    @BeforeAll static void start() { runner = newRunner(); }

    @AfterAll static void stop() { runner.shutdownNow(); }

    private static ExecutorService newRunner() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-reader");
            t.setDaemon(true);
            return t;
        });
    }

    static List<Target> targets(Path dir) throws Exception {
        List<Target> t = new ArrayList<>();
        Path sample = repoRoot().resolve("samples/zhinao-tiny/vocab/360.tiktoken");
        Tokenizer zhinao = TokenizerLoader.load(sample);

        Path dense = SyntheticModel.write(dir.resolve("dense"),
                SyntheticModel.config(Architecture.LLAMA, 16, 32, 1, 2, 1, 64), DType.BF16, 1);
        Reader wholeModel = f -> readModel(f.getParent());
        t.add(headerTarget("safetensors header", dense.resolve("model.safetensors"), wholeModel));
        t.add(Target.of("config.json", dense.resolve("config.json"), wholeModel));

        Path sharded = SyntheticModel.write(dir.resolve("sharded"),
                SyntheticModel.config(Architecture.QWEN2, 16, 32, 2, 2, 1, 64), DType.F16, 2, 3000);
        t.add(Target.of("safetensors index", sharded.resolve("model.safetensors.index.json"), wholeModel));
        try (var s = Files.list(sharded)) {
            Path shard = s.filter(p -> p.getFileName().toString().startsWith("model-00002")).findFirst().orElseThrow();
            t.add(headerTarget("safetensors shard header", shard, wholeModel));
        }

        Path quantized = gptqModel(dir.resolve("gptq-model"));
        t.add(headerTarget("GPTQ safetensors header", quantized.resolve("model.safetensors"), wholeModel));
        t.add(dataTarget("GPTQ g_idx values", quantized.resolve("model.safetensors"), "model.layers.0.mlp.down_proj.g_idx", wholeModel));

        Path gptq = Files.createDirectories(dir.resolve("gptq"));
        Files.copy(dense.resolve("config.json"), gptq.resolve("config.json"));
        Files.writeString(gptq.resolve(ModelConfig.QUANTIZE_CONFIG), "{\n  \"bits\": 4,\n  \"group_size\": 128,\n  \"damp_percent\": 0.01,\n"
                + "  \"desc_act\": true,\n  \"static_groups\": false,\n  \"sym\": true,\n  \"true_sequential\": true,\n"
                + "  \"model_name_or_path\": null,\n  \"model_file_base_name\": null,\n  \"quant_method\": \"gptq\",\n"
                + "  \"checkpoint_format\": \"gptq\"\n}\n");
        t.add(Target.of("quantize_config.json", gptq.resolve(ModelConfig.QUANTIZE_CONFIG), f -> {
            ModelConfig c = ModelConfig.read(f.resolveSibling("config.json"));
            ModelLayout.of(c);
            if (c.quantization() != null) c.quantization().zeroFormat();
        }));

        // the sample's first 600 ranks (the 256 bytes and the first merges): a few kB, so each input loads in well under 1 ms
        Path tiktoken = Files.write(Files.createDirectories(dir.resolve("zhinao/vocab")).resolve("360.tiktoken"),
                Files.readAllLines(sample).subList(0, 600));
        t.add(Target.of("360.tiktoken", tiktoken, f -> roundTrip(TokenizerLoader.load(f.getParent().getParent()))));
        Path hf = TokenizerSeeds.tokenizerJson(dir.resolve("hf/tokenizer.json"));
        t.add(Target.of("tokenizer.json", hf, f -> roundTrip(TokenizerLoader.load(f))));

        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 400; i++) ids.append(i * 7919 % zhinao.vocabSize()).append(i % 16 == 15 ? "\n" : " ");
        Path tokens = Files.writeString(Files.createDirectories(dir.resolve("tokens")).resolve("calib.tokens"), ids);
        t.add(Target.of("token file", tokens, f -> TextCorpus.load(f, (CorpusFormat) null, zhinao)));

        Path conversations = Files.createDirectories(dir.resolve("conversations")).resolve("calib.json");
        String all = Files.readString(repoRoot().resolve("samples/data/calib-conversations.json"));
        Files.writeString(conversations, all.substring(0, all.indexOf("\n {\n  \"id\": \"calib-003\"")).replaceAll(",\\s*$", "") + "\n]\n");
        t.add(Target.of("calibration conversations JSON", conversations, f -> TextCorpus.load(f, (CorpusFormat) null, zhinao)));
        Path jsonl = Files.writeString(Files.createDirectories(dir.resolve("jsonl")).resolve("calib.jsonl"),
                "{\"text\": \"The quick brown fox\", \"id\": 1}\n{\"text\": \"中文的句子。\\nline two\"}\n\n{\"meta\": {}, \"text\": \"x\"}\n");
        t.add(Target.of("calibration JSONL", jsonl, f -> TextCorpus.load(f, (CorpusFormat) null, zhinao)));

        Path gguf = ggufFile(dir.resolve("gguf/model.gguf"));
        t.add(Target.of("GGUF", gguf, f -> {
            try (GgufFile g = GgufFile.open(f)) {
                for (GgufValue v : g.metadata().values()) v.describe();
                for (GgufTensorInfo info : g.tensors()) g.floats(info.name());
            }
        }));

        String text = Files.readString(repoRoot().resolve("samples/data/calib.txt")).substring(0, 1500);
        for (String ext : List.of("gz", "xz", "bz2", "zst")) {
            Path f = compressed(Files.createDirectories(dir.resolve("compressed-" + ext)).resolve("calib.txt." + ext), text);
            t.add(Target.of("compressed text ." + ext, f, p -> TextCorpus.load(p, (CorpusFormat) null, zhinao)));
        }
        return t;
    }

    /** Mutations in the 8-byte length and the JSON header (plus a little data), the rest of the file unchanged. */
    private static Target headerTarget(String name, Path file, Reader reader) throws IOException {
        byte[] b = Files.readAllBytes(file);
        return new Target(name, file, b, 0, (int) Math.min(b.length, dataStart(b) + 16), reader);
    }

    private static long dataStart(byte[] safetensors) {
        return 8 + java.nio.ByteBuffer.wrap(safetensors, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Mutations inside one tensor's data only: values a header check cannot see. */
    private static Target dataTarget(String name, Path file, String tensor, Reader reader) throws IOException {
        byte[] b = Files.readAllBytes(file);
        long begin, end;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            begin = f.require(tensor).begin();
            end = f.require(tensor).end();
        }
        long start = dataStart(b);
        return new Target(name, file, b, (int) (start + begin), (int) (start + end), reader);
    }

    /**
     * A GPTQ checkpoint laid out as AutoGPTQ writes it (random int32 qweight and qzeros, fp16 scales, g_idx = k / group
     * size) with the quantization settings in config.json.
     */
    private static Path gptqModel(Path dir) throws IOException {
        ObjectNode cfg = SyntheticModel.config(Architecture.LLAMA, 64, 128, 1, 4, 2, 64);
        cfg.putObject("quantization_config").put("bits", 4).put("group_size", 32).put("desc_act", true).put("sym", true)
                .put("quant_method", "gptq").put("checkpoint_format", "gptq");
        ModelConfig c = ModelConfig.of(cfg, dir.resolve("config.json"));
        SplittableRandom r = new SplittableRandom(5);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, long[]> e : ModelLayout.of(c).expectedTensors().entrySet()) {
            String n = e.getKey();
            long[] shape = e.getValue();
            int numel = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            if (n.endsWith(".qweight") || n.endsWith(".qzeros") || n.endsWith(".g_idx")) {
                int[] v = new int[numel];
                for (int i = 0; i < numel; i++) v[i] = n.endsWith(".g_idx") ? i / 32 : r.nextInt();
                entries.add(new SafetensorsWriter.Entry(n, DType.I32, shape, TensorData.ints(v)));
            } else {
                float[] v = new float[numel];
                for (int i = 0; i < numel; i++) v[i] = n.endsWith(".scales") ? 0.01f : (float) (r.nextDouble() - 0.5);
                entries.add(new SafetensorsWriter.Entry(n, DType.F16, shape, TensorData.floats(v, DType.F16)));
            }
        }
        Files.createDirectories(dir);
        ShardedWriter.write(dir, SafetensorsWriter.defaultMetadata(), entries, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
        ModelConfig.write(cfg, dir.resolve("config.json"));
        return dir;
    }

    /** A small GGUF file with the metadata kinds llama.cpp files carry and a tensor of each block family. */
    private static Path ggufFile(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        GgufMetadata md = new GgufMetadata().putString("general.architecture", "llama").putU32("llama.block_count", 1)
                .putF32("llama.rope.freq_base", 1e4).putBool("tokenizer.ggml.add_bos_token", false)
                .putStrings("tokenizer.ggml.tokens", List.of("a", "Ġb", "日本", "<|im_end|>"))
                .putInt32s("tokenizer.ggml.token_type", List.of(1L, 1L, 1L, 3L));
        float[] w = new float[64];
        for (int i = 0; i < w.length; i++) w[i] = (i % 13) / 13f - 0.5f;
        Map<String, GgmlType> types = new java.util.LinkedHashMap<>();
        types.put("norm", GgmlType.F32);
        types.put("half", GgmlType.F16);
        types.put("q8", GgmlType.Q8_0);
        types.put("q4", GgmlType.Q4_0);
        types.put("q41", GgmlType.Q4_1);
        List<GgufTensorInfo> plan = new ArrayList<>();
        types.forEach((n, ty) -> plan.add(GgufTensorInfo.planned(n, ty, 32, 2)));
        try (GgufWriter wr = GgufWriter.create(file, md, plan)) {
            for (Map.Entry<String, GgmlType> e : types.entrySet()) {
                GgmlType ty = e.getValue();
                wr.push(e.getKey(), ty, new long[] {32, 2}, out -> {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) ty.byteSize(w.length, 32)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    ty.encode(w, 0, w.length, b);
                    TensorData.writeAll(out, b.flip());
                });
            }
            wr.commit();
        }
        return file;
    }

    /** Opens the folder as a model and decodes every tensor, as quantize and ppl would. */
    private static void readModel(Path dir) {
        try (Checkpoint c = Checkpoint.open(dir)) {
            for (String name : c.tensorNames()) {
                SafetensorsFile f = c.fileOf(name);
                TensorInfo info = f.info(name);
                if (info.dtype().isFloatingPoint()) c.floats(name);
                else if (info.dtype() == DType.I32) c.ints(name);
            }
            CheckpointValues.checkAll(c);
        }
    }

    private static void roundTrip(Tokenizer tok) {
        int[] ids = tok.encode(SAMPLE_TEXT);
        tok.decode(ids, false);
        for (int id : ids) tok.piece(id);
    }

    private static Path compressed(Path file, String text) throws Exception {
        String name = switch (file.getFileName().toString().replaceAll(".*\\.", "")) {
            case "gz" -> CompressorStreamFactory.GZIP;
            case "xz" -> CompressorStreamFactory.XZ;
            case "bz2" -> CompressorStreamFactory.BZIP2;
            default -> CompressorStreamFactory.ZSTANDARD;
        };
        // bzip2 with 100k blocks: its decoder sizes its tables by the block size the header names
        try (OutputStream out = name.equals(CompressorStreamFactory.BZIP2)
                ? new BZip2CompressorOutputStream(Files.newOutputStream(file), 1)
                : new CompressorStreamFactory().createCompressorOutputStream(name, Files.newOutputStream(file))) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    static Path repoRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("oracles")) && Files.isDirectory(p.resolve("samples"))) return p;
        }
        throw new IllegalStateException("repository root (the folder holding oracles/ and samples/) not found above " + System.getProperty("user.dir"));
    }

    /** Runs {@code budgetNanos} of mutated inputs through one target. */
    static Tally fuzz(Target target, long seed, long budgetNanos) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        String folder = target.file().getParent().toString();
        long inputs = 0, accepted = 0, refused = 0;
        boolean hung = false;
        List<String> failures = new ArrayList<>();
        long end = System.nanoTime() + budgetNanos;
        try {
            while (inputs < INPUTS && System.nanoTime() < end && failures.size() < 5) {
                byte[] input = target.mutated(r);
                Files.write(target.file(), input);
                inputs++;
                Throwable thrown = run(target);
                if (thrown == null) {
                    accepted++;
                } else if (thrown instanceof CheckpointException e && isClear(e.getMessage(), folder)) {
                    refused++;
                } else {
                    failures.add(describe(target, inputs, input, thrown));
                    if (thrown instanceof TimeoutException) {
                        hung = true;
                        break;
                    }
                }
            }
        } finally {
            Files.write(target.file(), target.seed());
        }
        return new Tally(target.name(), inputs, accepted, refused, failures, hung);
    }

    private static Throwable run(Target target) throws InterruptedException {
        Future<?> f = runner.submit(() -> {
            target.reader().read(target.file());
            return null;
        });
        try {
            f.get(HANG_SECONDS, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            f.cancel(true);
            runner.shutdownNow();
            runner = newRunner(); // the hung thread is a daemon; it dies with the test JVM
            return e;
        }
    }

    /** zq's message: one line, naming the input's folder, with no Java class name in it. */
    static boolean isClear(String m, String folder) {
        return m != null && !m.isBlank() && m.indexOf('\n') < 0 && m.contains(folder) && !m.matches(".*\\bjava\\.\\w+\\..*")
                && !m.contains("Exception") && !m.endsWith(": null");
    }

    private static String describe(Target target, long input, byte[] bytes, Throwable t) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
        Path saved = dir.resolve(target.name().replaceAll("\\W+", "_") + "-" + input + "-" + target.file().getFileName());
        Files.write(saved, bytes);
        StackTraceElement at = t.getStackTrace().length > 0 ? t.getStackTrace()[0] : null;
        return target.name() + " input " + input + " (" + saved.toAbsolutePath() + "): " + t.getClass().getName() + ": "
                + t.getMessage() + (at == null ? "" : " at " + at);
    }

    @Test
    void everyReaderRefusesBadInputClearlyOrReadsItToTheEnd() throws Exception {
        List<Target> targets = targets(work);
        long perTarget = (long) (SECONDS * 1e9 / targets.size());
        List<Tally> tallies = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            Tally t = fuzz(targets.get(i), SEED * 1_000_003L + i, perTarget);
            tallies.add(t);
            if (t.hung()) break; // the hung reader still holds a core and the heap: later counts would mean nothing
        }
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "reader fuzzing, at most %d inputs per reader in %.0f s, seed %d:%n", INPUTS, SECONDS, SEED));
        List<String> failures = new ArrayList<>();
        for (Tally t : tallies) {
            table.append(String.format(Locale.ROOT, "  %-32s %7d inputs %7d accepted %7d refused %3d failed%n", t.target(), t.inputs(),
                    t.accepted(), t.refused(), t.failures().size()));
            failures.addAll(t.failures());
        }
        System.out.print(table);
        assertEquals(List.of(), failures, table.toString());
        for (Tally t : tallies) assertTrue(t.refused() > 0, t.target() + ": no mutation was refused, so the mutator never reached the reader");
    }
}
