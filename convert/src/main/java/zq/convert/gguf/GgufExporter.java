package zq.convert.gguf;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;
import zq.formats.QuantizationConfig;
import zq.formats.TensorData;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.GgufFile;
import zq.formats.gguf.GgufMetadata;
import zq.formats.gguf.GgufTensorInfo;
import zq.formats.gguf.GgufVocabulary;
import zq.formats.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code zq convert MODEL --to gguf}: a dense or GPTQ checkpoint as one GGUF file llama.cpp runs
 * (design: docs/gguf.md). Dense Linears take the requested type (F32, F16, BF16, Q8_0, or llama.cpp's
 * round-to-nearest Q4_0/Q4_1); GPTQ Linears keep their solved codes as Q4_0 (sym) or Q4_1 (asym) blocks
 * ({@link GptqBlocks}). Norms and biases are F32, as llama.cpp's converter writes them. Embeddings and the
 * output head are F16 for GPTQ and 4-bit exports: the GPTQ checkpoint holds them in fp16 already, so F16
 * keeps them exact and the GGUF differs from the checkpoint only where GPTQ chose to; with Q8_0 requested
 * they are Q8_0 as well, as llama.cpp's converter does with {@code --outtype q8_0}. Tensors stream one
 * chunk at a time into a hidden partial file, which is re-read and validated before it takes its name.
 */
public final class GgufExporter {
    private GgufExporter() {}

    /** What was written. */
    public record Result(Path output, String architecture, GgmlType linearType, int tensors, long bytes, int vocabulary,
                         int unreachableTokens) {}

    /** One planned tensor and where its bytes come from. */
    private record Planned(GgufTensorInfo info, TensorData data) {}

    /** As {@link #export(Path, Path, GgmlType, String, Consumer)}, named after the model folder. */
    public static Result export(Path modelDir, Path outFile, GgmlType denseType, Consumer<String> progress) throws IOException {
        return export(modelDir, outFile, denseType, modelDir.toAbsolutePath().normalize().getFileName().toString(), progress);
    }

    /**
     * @param denseType the Linears' type for a dense checkpoint (null: F16); must be null for GPTQ
     * @param name      general.name, the model's name in llama.cpp's listings
     * @param progress  receives one line per tensor written
     */
    public static Result export(Path modelDir, Path outFile, GgmlType denseType, String name, Consumer<String> progress) throws IOException {
        try (Checkpoint in = Checkpoint.open(modelDir)) {
            ModelConfig c = in.config();
            ModelLayout layout = in.layout();
            GgufArchitecture arch = GgufArchitecture.of(c, layout.layers().isEmpty() ? null : layout.layers().get(0));
            GgmlType linearType = linearType(c, denseType);
            GgmlType edgeType = linearType == GgmlType.Q8_0 || !linearType.isQuantized() ? linearType : GgmlType.F16;
            GgufVocabulary vocab = GgufVocabulary.of(modelDir, c);
            List<Planned> plan = plan(in, arch, linearType, edgeType);
            GgufMetadata md = new GgufMetadata();
            ModelKeys.put(md, c, arch, name, linearType);
            vocab.putInto(md);
            List<GgufTensorInfo> infos = plan.stream().map(Planned::info).toList();
            long bytes = 0;
            try (GgufWriter w = GgufWriter.create(outFile, md, infos)) {
                int i = 0;
                for (Planned p : plan) {
                    w.push(p.info().name(), p.info().type(), p.info().dims(), p.data());
                    bytes += p.info().byteSize();
                    progress.accept(String.format("tensor %d/%d %s %s %s", ++i, plan.size(), p.info().name(), p.info().type(), p.info().dimsString()));
                }
                try (GgufFile check = GgufFile.open(w.path())) {
                    if (check.tensors().size() != plan.size()) throw new IllegalStateException("re-read " + check.tensors().size() + " tensors");
                }
                Path written = w.commit();
                return new Result(written, arch.name(), linearType, plan.size(), bytes, vocab.tokens().size(), vocab.unreachable());
            }
        }
    }

    private static GgmlType linearType(ModelConfig c, GgmlType denseType) {
        QuantizationConfig q = c.quantization();
        if (q == null) return denseType == null ? GgmlType.F16 : denseType;
        if (denseType != null) {
            throw new IllegalArgumentException(c.source() + ": a GPTQ checkpoint's Linears are written as Q4_0 (sym) or Q4_1 (asym) "
                    + "from its own codes; --dtype applies to dense checkpoints only");
        }
        return q.sym() ? GgmlType.Q4_0 : GgmlType.Q4_1;
    }

    private static List<Planned> plan(Checkpoint in, GgufArchitecture arch, GgmlType linearType, GgmlType edgeType) {
        ModelConfig c = in.config();
        ModelLayout layout = in.layout();
        int h = c.hiddenSize(), v = c.vocabSize();
        List<Planned> plan = new ArrayList<>();
        plan.add(dense(in, layout.embedTokens(), "token_embd.weight", RowOrder.identity(v), h, edgeType));
        if (ModelKeys.needsRopeFreqs(c)) {
            if (!arch.permuteQk()) throw new CheckpointException(c.source() + ": llama3 rope_scaling needs llama.cpp's llama graph; qwen2 reads no rope_freqs");
            float[] f = ModelKeys.llama3Factors(c);
            plan.add(new Planned(GgufTensorInfo.planned("rope_freqs.weight", GgmlType.F32, f.length), DenseRows.computed(f)));
        }
        for (LayerLayout l : layout.layers()) {
            String p = "blk." + l.index() + ".";
            plan.add(vector(in, l.inputNorm(), p + "attn_norm.weight", RowOrder.identity(h)));
            String[] names = {"attn_q", "attn_k", "attn_v"};
            LinearRef.Role[] roles = {LinearRef.Role.Q, LinearRef.Role.K, LinearRef.Role.V};
            for (int j = 0; j < 3; j++) {
                LinearRef src = l.fusedQkv() ? l.attention().get(0) : l.attention().get(j);
                int[] rows = RowOrder.attention(c, roles[j], l.fusedQkv(), arch.permuteQk());
                plan.add(linear(in, src, p + names[j], rows, linearType));
                if (src.hasBias()) plan.add(vector(in, src.bias(), p + names[j] + ".bias", rows));
            }
            addLinear(plan, in, l.o(), p + "attn_output", linearType);
            plan.add(vector(in, l.postAttentionNorm(), p + "ffn_norm.weight", RowOrder.identity(h)));
            addLinear(plan, in, l.gate(), p + "ffn_gate", linearType);
            addLinear(plan, in, l.up(), p + "ffn_up", linearType);
            addLinear(plan, in, l.down(), p + "ffn_down", linearType);
        }
        plan.add(vector(in, layout.finalNorm(), "output_norm.weight", RowOrder.identity(h)));
        // tied: llama.cpp uses token_embd when output.weight is absent (TENSOR_DUPLICATED in src/models/*.cpp)
        if (layout.lmHead() != null) plan.add(dense(in, layout.lmHead(), "output.weight", RowOrder.identity(v), h, edgeType));
        return plan;
    }

    private static void addLinear(List<Planned> plan, Checkpoint in, LinearRef src, String name, GgmlType type) {
        int[] rows = RowOrder.identity(src.outFeatures());
        plan.add(linear(in, src, name, rows, type));
        if (src.hasBias()) plan.add(vector(in, src.bias(), name + ".bias", rows));
    }

    private static Planned linear(Checkpoint in, LinearRef src, String name, int[] rows, GgmlType type) {
        GgufTensorInfo info = GgufTensorInfo.planned(name + ".weight", type, src.inFeatures(), rows.length);
        if (in.config().isQuantized()) {
            GptqBlocks.checkBlockGroups(in, src, in.ints(src.gIdx()));
            return new Planned(info, new GptqBlocks(in, src, rows, type));
        }
        checkRowLength(in, src.weight(), src.inFeatures(), type);
        return new Planned(info, new DenseRows(in, src.weight(), rows, src.inFeatures(), type));
    }

    private static Planned dense(Checkpoint in, String source, String name, int[] rows, int cols, GgmlType type) {
        checkRowLength(in, source, cols, type);
        return new Planned(GgufTensorInfo.planned(name, type, cols, rows.length), new DenseRows(in, source, rows, cols, type));
    }

    private static Planned vector(Checkpoint in, String source, String name, int[] order) {
        return new Planned(GgufTensorInfo.planned(name, GgmlType.F32, order.length), DenseRows.vector(in, source, order));
    }

    private static void checkRowLength(Checkpoint in, String tensor, int cols, GgmlType type) {
        if (cols % type.blockSize() != 0) {
            throw new CheckpointException(in.dir() + ": tensor '" + tensor + "' has rows of " + cols + " values, not a multiple of the "
                    + type + " block size " + type.blockSize() + "; choose --dtype f16, bf16 or f32");
        }
    }
}
