package zq.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/** GGUF exports of the trained sample (samples/zhinao-tiny) run by the real llama.cpp. */
class GgufSampleTest {
    @TempDir Path tmp;

    private static final int SEQLEN = 256, WINDOWS = 2;

    private static List<int[]> evalWindows() throws Exception {
        Tokenizer tok = TokenizerLoader.load(GgufModels.sample());
        int[] ids = tok.encode(Files.readString(GgufModels.repoRoot().resolve("samples/data/eval.txt")));
        List<int[]> w = new ArrayList<>();
        for (int i = 0; i < WINDOWS; i++) w.add(Arrays.copyOfRange(ids, i * SEQLEN, (i + 1) * SEQLEN));
        return w;
    }

    /**
     * The comparison the issue asks for: GPTQ's Q4_0 (g32) and llama.cpp's own round-to-nearest Q4_0 of the same
     * model, each scored by llama.cpp against llama.cpp's F32 export. Same embeddings and head (F16) in both, so
     * only the Linears' blocks differ. GPTQ minimizes the layer output error on calibration data, RTN each block's
     * own rounding; on this model GPTQ's mean KLD is clearly lower (README: GGUF export).
     */
    @Test
    void gptqQ4_0HasLowerKldThanRoundToNearestQ4_0() throws Exception {
        Path sample = GgufModels.sample();
        Path f32 = tmp.resolve("f32.gguf"), rtn = tmp.resolve("rtn.gguf"), gptq = tmp.resolve("gptq.gguf");
        assertEquals(0, zq("convert", sample.toString(), "-o", f32.toString(), "--to", "gguf", "--dtype", "f32").code());
        CliRun r = zq("convert", sample.toString(), "-o", rtn.toString(), "--to", "gguf", "--dtype", "q4_0");
        assertEquals(0, r.code(), r.err());
        CliRun q = zq("quantize", sample.toString(), "-o", gptq.toString(), "--format", "gguf", "--group-size", "32",
                "--calib", GgufModels.repoRoot().resolve("samples/data/calib-conversations.json").toString(),
                "--nsamples", "16", "--seqlen", "256", "--hessian", "cpu");
        assertEquals(0, q.code(), q.err());
        assertTrue(q.out().contains("Linears Q4_0"), q.out());

        List<int[]> windows = evalWindows();
        int[] targets = NextTokenScores.targets(windows);
        List<LlamaCpp.Logits> all = LlamaCpp.logits(List.of(f32, rtn, gptq), windows, tmp);
        LlamaCpp.Logits ref = all.get(0);
        int v = ref.vocab();
        double pplZq = NextTokenScores.perplexity(GgufModels.zqLogits(sample, windows), v, targets);
        double pplF32 = NextTokenScores.perplexity(ref.values(), v, targets);
        assertEquals(1.0, pplF32 / pplZq, 1e-3, "F32 export in llama.cpp " + pplF32 + " vs zq runtime " + pplZq);
        double kldRtn = NextTokenScores.meanKld(ref.values(), all.get(1).values(), v);
        double kldGptq = NextTokenScores.meanKld(ref.values(), all.get(2).values(), v);
        assertTrue(kldGptq < kldRtn, "GPTQ Q4_0 mean KLD " + kldGptq + " must be below RTN Q4_0's " + kldRtn);
        assertTrue(kldGptq > 0, "the 4-bit exports are not the F32 model");
        System.out.printf("sample: llama.cpp F32 ppl %.4f, zq %.4f; mean KLD vs F32: GPTQ Q4_0 %.6f, RTN Q4_0 %.6f%n", pplF32, pplZq, kldGptq, kldRtn);
    }

    /**
     * llama.cpp's tokenizer (pre-tokenizer "qwen2", merges rebuilt from the tiktoken ranks) on the exported vocabulary
     * gives zq's 360Zhinao ids on text without runs of spaces, [br] or &lt;br&gt;; with a run of spaces it cannot, since
     * 360's pre-processing turns the run into a [spaceN] token before BPE.
     */
    @Test
    void llamaCppTokenizerGivesZqIdsOnTextWithoutSpaceRunsOrBreaks() throws Exception {
        Path sample = GgufModels.sample();
        Path gguf = tmp.resolve("s.gguf");
        CliRun c = zq("convert", sample.toString(), "-o", gguf.toString(), "--to", "gguf", "--dtype", "q8_0");
        assertEquals(0, c.code(), c.err());
        assertFalse(c.out().contains("no merge builds"), "every token of the sample is reachable by merges: " + c.out());
        List<String> texts = new ArrayList<>(Files.readAllLines(GgufModels.repoRoot().resolve("samples/data/eval.txt")));
        texts.addAll(List.of("Hello world, 你好！", "don't I'LL we've", "1234567 3.14159 x=42;", "tab\tand\nnew\n\nlines \n end",
                "emoji 🙂 and ﬁ ligature", "def f(x):\n\treturn x**2 # comment", "中文，标点。“引号”", "trailing space "));
        texts.removeIf(t -> t.contains("  ") || t.contains("[br]") || t.contains("<br>") || t.isEmpty());
        assertTrue(texts.size() > 400, "corpus lines: " + texts.size());
        Tokenizer tok = TokenizerLoader.load(sample);
        List<int[]> llama = LlamaCpp.tokenize(gguf, texts, tmp);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(tok.encode(texts.get(i)), llama.get(i), "text " + i + ": " + texts.get(i));
        }
        List<String> spaced = List.of("two  spaces", "line[br]break");
        List<int[]> differs = LlamaCpp.tokenize(gguf, spaced, tmp);
        for (int i = 0; i < spaced.size(); i++) {
            assertFalse(Arrays.equals(tok.encode(spaced.get(i)), differs.get(i)), "360's pre-processing is not reproduced: " + spaced.get(i));
        }
    }
}
