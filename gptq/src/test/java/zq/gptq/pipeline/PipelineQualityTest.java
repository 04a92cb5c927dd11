package zq.gptq.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.gptq.export.GptqExporter;
import zq.gptq.export.QuantizeRequest;
import zq.runtime.LayerStream;

/** The quantised model judged by the runtime and by a float64 output-error computation written here. */
class PipelineQualityTest {
    @TempDir Path tmp;

    private Path quantize(Path in, String name, QuantizeMethod method, PipelineFixtures.Capture capture) throws IOException {
        Path out = tmp.resolve(name);
        PipelineOptions o = PipelineFixtures.options(method, PipelineFixtures.gptq(32, false, true), true);
        GptqExporter.run(QuantizeRequest.of(in, out, o, method == QuantizeMethod.GPTQ ? PipelineFixtures.calibration() : null),
                capture);
        return out;
    }


    /**
     * Perplexity over non-overlapping windows of 32 tokens, each position predicting the next, from the runtime's logits
     * with the log-softmax taken here in float64 (validate's Perplexity, which streams the head in slices, is checked
     * against the same definition in its own tests).
     */
    private static double ppl(Path model, int[] tokens) {
        int seqLen = 32;
        try (Checkpoint ck = Checkpoint.open(model); LayerStream stream = new LayerStream(ck)) {
            int vocab = ck.config().vocabSize();
            double nll = 0;
            long predicted = 0;
            for (int w = 0; w + seqLen <= tokens.length; w += seqLen) {
                int[] window = java.util.Arrays.copyOfRange(tokens, w, w + seqLen);
                float[] logits = stream.logits(window);
                for (int t = 0; t + 1 < seqLen; t++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) max = Math.max(max, logits[t * vocab + v]);
                    double sum = 0;
                    for (int v = 0; v < vocab; v++) sum += Math.exp(logits[t * vocab + v] - max);
                    nll += max + Math.log(sum) - logits[t * vocab + window[t + 1]];
                    predicted++;
                }
            }
            return Math.exp(nll / predicted);
        }
    }

    /**
     * Windows the dense model continues greedily from a random first token: text it predicts well, so its perplexity
     * is far below that of a model with other weights and the comparison with the quantized model means something.
     */
    static int[] greedyText(Path model, int windows, int length) {
        int[] out = new int[windows * length];
        try (Checkpoint ck = Checkpoint.open(model); LayerStream stream = new LayerStream(ck)) {
            int vocab = ck.config().vocabSize();
            for (int w = 0; w < windows; w++) {
                int[] seq = new int[length];
                seq[0] = (17 + 31 * w) % vocab;
                for (int t = 1; t < length; t++) {
                    float[] logits = stream.logits(java.util.Arrays.copyOf(seq, t));
                    int best = 0;
                    for (int v = 1; v < vocab; v++) if (logits[(t - 1) * vocab + v] > logits[(t - 1) * vocab + best]) best = v;
                    seq[t] = best;
                }
                System.arraycopy(seq, 0, out, w * length, length);
            }
        }
        return out;
    }

    @Test
    void perplexityOfTheQuantizedModelStaysNearTheDenseOne() throws IOException {
        Path in = PipelineFixtures.model(tmp.resolve("in"), Architecture.LLAMA, 2, 21);
        Path gptq = quantize(in, "gptq", QuantizeMethod.GPTQ, new PipelineFixtures.Capture());
        Path rtn = quantize(in, "rtn", QuantizeMethod.RTN, new PipelineFixtures.Capture());
        // held-out text: other random tokens than the calibration windows
        int[] eval = greedyText(in, 4, 32);
        double dense = ppl(in, eval);
        double pGptq = ppl(gptq, eval);
        double pRtn = ppl(rtn, eval);
        Path other = PipelineFixtures.model(tmp.resolve("other"), Architecture.LLAMA, 2, 22);
        double unrelated = ppl(other, eval);
        // Bound: 4-bit codes with 32-column groups perturb each weight by about 8 % RMS (scale/sqrt(12) with
        // scale = 2·absmax/15 and absmax ≈ 2.1σ), which on this 2-layer toy model moves perplexity by some 10 %.
        // A factor of 1.5 allows for that while a model with unrelated weights (checked below) is far outside it.
        double bound = 1.5;
        for (double q : new double[]{pGptq, pRtn}) {
            assertTrue(Double.isFinite(q), "perplexity " + q);
            assertTrue(q / dense < bound && dense / q < bound, "quantized " + q + " vs dense " + dense);
        }
        assertTrue(unrelated / dense > bound, "the bound must tell a model apart from an unrelated one: " + unrelated + " vs " + dense);
    }

    /**
     * GPTQ minimises each Linear's output error on the calibration inputs; round-to-nearest, on the same grid, ignores
     * them. For layer 0's q, k and v the inputs are the same for both methods, rmsnorm(embedding), so they are
     * computed here in float64 straight from the checkpoint, and ||(W − Q)·xᵀ||² summed over every calibration token.
     */
    @Test
    void gptqHasALowerOutputErrorThanRoundToNearestOnTheCalibrationInputs() throws IOException {
        Path in = PipelineFixtures.model(tmp.resolve("in"), Architecture.LLAMA, 1, 31);
        PipelineFixtures.Capture gptq = new PipelineFixtures.Capture();
        PipelineFixtures.Capture rtn = new PipelineFixtures.Capture();
        quantize(in, "gptq", QuantizeMethod.GPTQ, gptq);
        quantize(in, "rtn", QuantizeMethod.RTN, rtn);
        try (Checkpoint ck = Checkpoint.open(in)) {
            LayerLayout layer = ck.layout().layers().get(0);
            double[][] x = normedEmbeddings(ck, layer, PipelineFixtures.calibration().windows());
            double errGptq = 0;
            double errRtn = 0;
            for (LinearRef ref : layer.attention()) {
                float[] w = ck.floats(ref.weight());
                errGptq += outputError(w, gptq.linears.get(ref.prefix()).dequantized(), ref, x);
                errRtn += outputError(w, rtn.linears.get(ref.prefix()).dequantized(), ref, x);
            }
            assertTrue(errGptq < errRtn, "GPTQ " + errGptq + " vs RTN " + errRtn);
        }
    }

    /** rmsnorm(embedding row) · input_layernorm weight for every calibration token, in float64. */
    private static double[][] normedEmbeddings(Checkpoint ck, LayerLayout layer, List<int[]> windows) {
        float[] embed = ck.floats(ck.layout().embedTokens());
        float[] norm = ck.floats(layer.inputNorm());
        int h = ck.config().hiddenSize();
        double eps = ck.config().rmsNormEps();
        return windows.stream().flatMapToInt(java.util.Arrays::stream).mapToObj(tok -> {
            double ms = 0;
            for (int j = 0; j < h; j++) ms += (double) embed[tok * h + j] * embed[tok * h + j];
            double inv = 1 / Math.sqrt(ms / h + eps);
            double[] row = new double[h];
            for (int j = 0; j < h; j++) row[j] = embed[tok * h + j] * inv * norm[j];
            return row;
        }).toArray(double[][]::new);
    }

    private static double outputError(float[] w, float[] q, LinearRef ref, double[][] x) {
        int in = ref.inFeatures();
        double total = 0;
        for (int r = 0; r < ref.outFeatures(); r++) {
            for (double[] row : x) {
                double s = 0;
                for (int j = 0; j < in; j++) s += ((double) w[r * in + j] - q[r * in + j]) * row[j];
                total += s * s;
            }
        }
        return total;
    }
}
