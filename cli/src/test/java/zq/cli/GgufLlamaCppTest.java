package zq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import zq.formats.Architecture;
import zq.formats.TensorData;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.GgufFile;
import zq.formats.gguf.GgufMetadata;
import zq.formats.gguf.GgufTensorInfo;
import zq.formats.gguf.GgufWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/**
 * F32 GGUF exports run by the real llama.cpp against zq's runtime on the source checkpoint: perplexity within
 * 1e-3 relative and the same top-1 token at ≥ 99 % of positions. Both run the same fp32 model; they differ only
 * in summation order and in llama.cpp's own exp/softmax/RoPE kernels, which move logits by ~1e-6 relative, far
 * inside the tolerance, while a wrong RoPE permutation, head split or bias moves perplexity by percents.
 */
class GgufLlamaCppTest {
    @TempDir Path tmp;

    record Case(String name, Architecture arch, int hidden, int heads, int kvHeads, Consumer<ObjectNode> tweak) {
        @Override public String toString() { return name; }
    }

    static Stream<Arguments> models() {
        return Stream.of(
                new Case("llama tied MHA", Architecture.LLAMA, 64, 4, 4, c -> c.put("tie_word_embeddings", true)),
                new Case("llama untied GQA, linear RoPE x2", Architecture.LLAMA, 64, 4, 2,
                        c -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0)),
                new Case("mistral MQA", Architecture.MISTRAL, 64, 4, 1, c -> { }),
                new Case("llama3 RoPE scaling (rope_freqs)", Architecture.LLAMA, 64, 4, 2, c -> c.putObject("rope_scaling")
                        .put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                        .put("original_max_position_embeddings", 32)),
                new Case("yarn RoPE scaling", Architecture.QWEN2, 64, 4, 2, c -> c.putObject("rope_scaling")
                        .put("rope_type", "yarn").put("factor", 4.0).put("original_max_position_embeddings", 32)),
                new Case("qwen2 with q/k/v biases", Architecture.QWEN2, 64, 4, 2, c -> c.put("rope_theta", 1e6)),
                new Case("zhinao GQA 8/2 via qwen2", Architecture.ZHINAO, 128, 8, 2, c -> { })
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void f32ExportMatchesZqRuntime(Case c) throws Exception {
        ObjectNode cfg = GgufModels.config(c.arch(), c.hidden(), c.heads(), c.kvHeads());
        c.tweak().accept(cfg);
        Path model = GgufModels.write(tmp.resolve("m"), cfg, 5);
        Path gguf = tmp.resolve("m.gguf");
        CliRun r = zq("convert", model.toString(), "-o", gguf.toString(), "--to", "gguf", "--dtype", "f32");
        assertEquals(0, r.code(), r.err());
        List<int[]> windows = GgufModels.randomWindows(3, 48, 9);
        int[] targets = NextTokenScores.targets(windows);
        LlamaCpp.Logits ll = LlamaCpp.logits(gguf, windows, tmp);
        float[] zqLogits = GgufModels.zqLogits(model, windows);
        assertEquals(GgufModels.VOCAB, ll.vocab());
        double pplLlama = NextTokenScores.perplexity(ll.values(), ll.vocab(), targets);
        double pplZq = NextTokenScores.perplexity(zqLogits, ll.vocab(), targets);
        double top1 = NextTokenScores.top1Agreement(ll.values(), zqLogits, ll.vocab());
        assertEquals(1.0, pplLlama / pplZq, 1e-3, c + ": llama.cpp ppl " + pplLlama + ", zq " + pplZq);
        assertTrue(top1 >= 0.99, c + ": top-1 agreement " + top1);
    }

    /**
     * The wrong alternative: the same Llama export with Q and K rows left in Hugging Face's order (no NORM-RoPE
     * permutation) must disagree with zq's runtime by far more than the 1e-3 tolerance, or the test above would not
     * be checking the permutation at all.
     */
    @Test
    void withoutTheQkPermutationLlamaCppDisagrees() throws Exception {
        ObjectNode cfg = GgufModels.config(Architecture.LLAMA, 64, 4, 2);
        Path model = GgufModels.write(tmp.resolve("m"), cfg, 5);
        Path gguf = tmp.resolve("m.gguf"), unpermuted = tmp.resolve("hf-order.gguf");
        assertEquals(0, zq("convert", model.toString(), "-o", gguf.toString(), "--to", "gguf", "--dtype", "f32").code());
        try (GgufFile g = GgufFile.open(gguf)) {
            GgufMetadata md = new GgufMetadata();
            g.metadata().forEach(md::put);
            List<GgufTensorInfo> plan = g.tensors().stream().map(t -> GgufTensorInfo.planned(t.name(), t.type(), t.dims())).toList();
            try (GgufWriter w = GgufWriter.create(unpermuted, md, plan)) {
                for (GgufTensorInfo t : plan) {
                    float[] v = g.floats(t.name());
                    boolean qk = t.name().endsWith("attn_q.weight") || t.name().endsWith("attn_k.weight");
                    float[] out = qk ? hfOrder(v, t.name().endsWith("attn_q.weight") ? 4 : 2, (int) t.dims()[0]) : v;
                    w.push(t.name(), t.type(), t.dims(), o -> {
                        ByteBuffer b = ByteBuffer.allocate(out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        GgmlType.F32.encode(out, 0, out.length, b);
                        TensorData.writeAll(o, b.flip());
                    });
                }
                w.commit();
            }
        }
        List<int[]> windows = GgufModels.randomWindows(3, 48, 9);
        int[] targets = NextTokenScores.targets(windows);
        List<LlamaCpp.Logits> ll = LlamaCpp.logits(List.of(gguf, unpermuted), windows, tmp);
        float[] zqLogits = GgufModels.zqLogits(model, windows);
        double pplZq = NextTokenScores.perplexity(zqLogits, GgufModels.VOCAB, targets);
        double right = NextTokenScores.perplexity(ll.get(0).values(), GgufModels.VOCAB, targets);
        double wrong = NextTokenScores.perplexity(ll.get(1).values(), GgufModels.VOCAB, targets);
        assertEquals(1.0, right / pplZq, 1e-3);
        assertTrue(Math.abs(wrong / pplZq - 1) > 1e-2 || NextTokenScores.top1Agreement(ll.get(1).values(), zqLogits, GgufModels.VOCAB) < 0.9,
                "unpermuted Q/K: llama.cpp ppl " + wrong + " vs zq " + pplZq);
    }

    /** Undoes the permutation: GGUF row h·hd + 2i + half is Hugging Face row h·hd + half·hd/2 + i. */
    private static float[] hfOrder(float[] w, int heads, int in) {
        int hd = w.length / in / heads;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                for (int half = 0; half < 2; half++) {
                    System.arraycopy(w, (h * hd + 2 * i + half) * in, out, (h * hd + half * hd / 2 + i) * in, in);
                }
            }
        }
        return out;
    }
}
