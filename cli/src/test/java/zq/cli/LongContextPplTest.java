package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.text.TextCorpus;
import zq.formats.tokenizer.TokenizerLoader;
import zq.runtime.fixtures.ReferenceForward;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/**
 * The sample stretched to 4096 positions (linear RoPE scaling, factor 4) and scored in one 4096-token window
 * processed in chunks of 1000 positions (not a divisor): the perplexity equals the float64 reference forward
 * over the whole window at once.
 */
class LongContextPplTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;

    @Test
    void chunkedPerplexityAtTheNewContextEqualsTheOneShotReference() throws Exception {
        Path sample = GenerateCommandTest.SAMPLE, text = Path.of("..", "samples", "data", "eval.txt");
        CliRun tooLong = zq("ppl", sample.toString(), "--text", text.toString(), "--seqlen", "4096");
        assertEquals(2, tooLong.code(), "the sample's own context is 1024");
        assertTrue(tooLong.err().contains("max_position_embeddings 1024"), tooLong.err());

        Path stretched = tmp.resolve("long");
        CliRun c = zq("convert", sample.toString(), "-o", stretched.toString(), "--rope-scaling", "linear:factor=4",
                "--max-position-embeddings", "4096");
        assertEquals(0, c.code(), c.err());
        CliRun r = zq("ppl", stretched.toString(), "--text", text.toString(), "--seqlen", "4096", "--max-windows", "1",
                "--chunk", "1000", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(4095, j.get("tokens").asLong());
        assertTrue(j.get("peak_rss_bytes").asLong() > 0);

        int[] window = Arrays.copyOf(TextCorpus.load(text, (zq.formats.text.CorpusFormat) null, TokenizerLoader.load(stretched)).tokens(), 4096);
        double[][] logits = ReferenceForward.logits(stretched, window);
        double nll = 0;
        for (int t = 0; t + 1 < window.length; t++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double v : logits[t]) max = Math.max(max, v);
            for (double v : logits[t]) sum += Math.exp(v - max);
            nll += max + Math.log(sum) - logits[t][window[t + 1]];
        }
        double expected = Math.exp(nll / 4095);
        // fp32 logits agree with float64 to ~1e-6 of their scale; the mean NLL over 4095 positions to ~1e-6 relative
        assertEquals(expected, j.get("ppl").asDouble(), 1e-5 * expected, "chunked fp32 vs one-shot float64");
        // and the scaling matters: the unscaled sample over its own 1024 positions is another number
        double unscaled = JSON.readTree(zq("ppl", sample.toString(), "--text", text.toString(), "--seqlen", "1024",
                "--max-windows", "1", "--json").out()).get("ppl").asDouble();
        assertTrue(Math.abs(unscaled - expected) > 1e-3 * expected, unscaled + " vs " + expected);
    }
}
