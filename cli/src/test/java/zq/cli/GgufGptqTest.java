package zq.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.HalfFloats;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.GgufFile;
import zq.formats.gptq.Int4Layout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/**
 * GGUF from GPTQ g32: every Q4 block read back by zq's GGUF reader equals the GPTQ checkpoint's weights as
 * zq's decoder of the AutoGPTQ layout ({@code Int4Layout.dequantize}, what the runtime runs) decodes them (bit for bit for Q4_0; for Q4_1 up to the rounding of m = −scale·zero
 * to fp16), and llama.cpp's perplexity is within 1 % of zq's runtime on the GPTQ checkpoint: llama.cpp rounds
 * the activations entering Q4 matmuls to 8 bits (Q8_0/Q8_1 blocks), a perturbation of about 0.4 % per value.
 * The expected row order is derived independently of the exporter: Zhinao's q/k/v come from zq's byte-exact
 * {@code convert --to qwen2}, and Llama's Q/K permutation is written as convert_hf_to_gguf.py's reshape/swapaxes.
 */
class GgufGptqTest {
    @TempDir Path tmp;

    private Path tokens() throws Exception {
        String ids = IntStream.range(0, 2000).mapToObj(i -> Integer.toString((i * 7919 + 13) % GgufModels.REAL_TOKENS))
                .collect(Collectors.joining(" "));
        return Files.writeString(tmp.resolve("calib.tokens"), ids);
    }

    private Path gptq(Path model, String name, String... more) throws Exception {
        Path out = tmp.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("quantize", model.toString(), "-o", out.toString(), "--calib",
                tokens().toString(), "--calib-format", "tokens", "--nsamples", "8", "--seqlen", "32", "--hessian", "cpu"));
        args.addAll(List.of(more));
        CliRun r = zq(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"ZHINAO, sym", "ZHINAO, asym", "LLAMA, sym", "LLAMA, asym"})
    void blocksEqualTheGptqWeightsAndLlamaCppMatchesTheRuntime(Architecture arch, String grid) throws Exception {
        boolean sym = grid.equals("sym");
        var cfg = arch == Architecture.ZHINAO ? GgufModels.config(arch, 128, 8, 2) : GgufModels.config(arch, 64, 4, 2);
        Path model = GgufModels.write(tmp.resolve("m"), cfg, 21);
        Path q = gptq(model, "q", "--group-size", "32", sym ? "--sym" : "--no-sym");
        Path gguf = tmp.resolve("q.gguf");
        CliRun r = zq("convert", q.toString(), "-o", gguf.toString(), "--to", "gguf");
        assertEquals(0, r.code(), r.err());
        GgmlType type = sym ? GgmlType.Q4_0 : GgmlType.Q4_1;

        Path separate = q;
        if (arch == Architecture.ZHINAO) {
            separate = tmp.resolve("q-qwen2");
            CliRun s = zq("convert", q.toString(), "-o", separate.toString(), "--to", "qwen2");
            assertEquals(0, s.code(), s.err());
        }
        long blocksChecked = 0;
        try (Checkpoint ck = Checkpoint.open(separate); GgufFile g = GgufFile.open(gguf)) {
            var zeros = ck.config().quantization().zeroFormat();
            boolean permute = arch == Architecture.LLAMA;
            for (LayerLayout l : ck.layout().layers()) {
                String[] names = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_gate", "ffn_down"};
                List<LinearRef> lins = l.linears();
                for (int i = 0; i < lins.size(); i++) {
                    LinearRef lin = lins.get(i);
                    float[] w = Int4Layout.dequantize(lin.prefix(), ck.ints(lin.qweight()), ck.ints(lin.qzeros()),
                            ck.floats(lin.scales()), ck.ints(lin.gIdx()), lin.inFeatures(), lin.outFeatures(), zeros);
                    int heads = lin.role() == LinearRef.Role.Q ? cfg.get("num_attention_heads").asInt() : cfg.get("num_key_value_heads").asInt();
                    if (permute && (lin.role() == LinearRef.Role.Q || lin.role() == LinearRef.Role.K)) {
                        w = convertHfToGgufPermute(w, heads, lin.inFeatures());
                    }
                    String name = "blk." + l.index() + "." + names[i] + ".weight";
                    assertEquals(type, g.tensor(name).type(), name);
                    float[] actual = g.floats(name);
                    assertEquals(w.length, actual.length, name);
                    for (int k = 0; k < w.length; k++) {
                        // Q4_1's m = −scale·zero is rounded to fp16: half an fp16 ulp of a value up to 16·scale ≲ 2^-11·16·|scale|
                        double tol = sym ? 0 : Math.abs(w[k]) * 0x1p-20 + 16 * maxScale(ck, lin) * 0x1p-11;
                        if (Math.abs(actual[k] - w[k]) > tol) {
                            throw new AssertionError(name + " value " + k + ": GGUF " + actual[k] + ", GPTQ " + w[k] + " (tolerance " + tol + ")");
                        }
                    }
                    blocksChecked += w.length / 32;
                }
            }
            float[] embed = ck.floats("model.embed_tokens.weight");
            float[] ge = g.floats("token_embd.weight");
            assertEquals(GgmlType.F16, g.tensor("token_embd.weight").type());
            for (int k = 0; k < embed.length; k++) assertEquals(embed[k], ge[k], 0.0f, "token_embd is the checkpoint's fp16 embedding");
        }
        assertTrue(blocksChecked > 1000, "blocks checked: " + blocksChecked);

        List<int[]> windows = GgufModels.randomWindows(3, 48, 4);
        int[] targets = NextTokenScores.targets(windows);
        LlamaCpp.Logits ll = LlamaCpp.logits(gguf, windows, tmp);
        double pplLlama = NextTokenScores.perplexity(ll.values(), ll.vocab(), targets);
        double pplZq = NextTokenScores.perplexity(GgufModels.zqLogits(q, windows), ll.vocab(), targets);
        assertEquals(1.0, pplLlama / pplZq, 0.01, arch + " " + grid + ": llama.cpp ppl " + pplLlama + ", zq runtime on the GPTQ checkpoint " + pplZq);
    }

    private static float maxScale(Checkpoint ck, LinearRef lin) {
        float m = 0;
        for (float s : ck.floats(lin.scales())) m = Math.max(m, Math.abs(s));
        return m;
    }

    /** convert_hf_to_gguf.py's LlamaModel.permute: w.reshape(heads, 2, hd/2, in).swapaxes(1, 2).reshape(w.shape). */
    static float[] convertHfToGgufPermute(float[] w, int heads, int in) {
        int rows = w.length / in, hd = rows / heads;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int two = 0; two < 2; two++) {
                for (int i = 0; i < hd / 2; i++) {
                    int src = ((h * 2 + two) * (hd / 2) + i) * in;   // index [h][two][i] of the reshaped source
                    int dst = ((h * (hd / 2) + i) * 2 + two) * in;   // index [h][i][two] after swapaxes(1, 2)
                    System.arraycopy(w, src, out, dst, in);
                }
            }
        }
        return out;
    }

    @Test
    void groupsThatDoNotFillBlocksOf32AreRefusedByName() throws Exception {
        Path model = GgufModels.write(tmp.resolve("m"), GgufModels.config(Architecture.LLAMA, 64, 4, 2), 3);
        Path g16 = gptq(model, "g16", "--group-size", "16");
        CliRun r = zq("convert", g16.toString(), "-o", tmp.resolve("g16.gguf").toString(), "--to", "gguf");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("model.layers.0.self_attn.q_proj") && r.err().contains("one 32-value block"), r.err());
        assertFalse(Files.exists(tmp.resolve("g16.gguf")));
        Path act = gptq(model, "act", "--group-size", "32", "--desc-act");
        CliRun a = zq("convert", act.toString(), "-o", tmp.resolve("act.gguf").toString(), "--to", "gguf");
        assertEquals(2, a.code(), a.out());
        assertTrue(a.err().contains("g_idx"), a.err());
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")), "no partial output is left");
        }
        Path staticGroups = gptq(model, "static", "--group-size", "32", "--desc-act", "--static-groups");
        CliRun ok = zq("convert", staticGroups.toString(), "-o", tmp.resolve("static.gguf").toString(), "--to", "gguf");
        assertEquals(0, ok.code(), "act-order with static groups keeps every block in one group: " + ok.err());
        CliRun early = zq("quantize", model.toString(), "-o", tmp.resolve("x.gguf").toString(), "--format", "gguf",
                "--group-size", "48", "--calib", tokens().toString());
        assertEquals(2, early.code());
        assertTrue(early.err().contains("multiple of 32"), early.err());
    }
}
