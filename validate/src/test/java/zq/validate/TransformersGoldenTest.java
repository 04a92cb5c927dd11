package zq.validate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.runtime.LayerStream;

import java.io.InputStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime against Hugging Face transformers 5.17 itself (float64 on an H200; the script is
 * samples/golden/make_golden.py): the bundled sample (loaded by transformers as its Qwen2 conversion)
 * and small Llama models under every RoPE scaling type, generated here with the same seed as there.
 */
class TransformersGoldenTest {
    @TempDir Path tmp;

    static JsonNode golden() throws Exception {
        try (InputStream in = TransformersGoldenTest.class.getResourceAsStream("transformers-golden.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** Largest |a − b| over the row, relative to the row's largest |b|. */
    static double relativeError(float[] logits, int row, int vocab, JsonNode expected) {
        double maxDiff = 0, maxRef = 0;
        for (int v = 0; v < vocab; v++) {
            double e = expected.get(v).asDouble();
            maxDiff = Math.max(maxDiff, Math.abs(logits[row * vocab + v] - e));
            maxRef = Math.max(maxRef, Math.abs(e));
        }
        return maxDiff / maxRef;
    }

    @Test void sampleLogitsMatchTransformersQwen2() throws Exception {
        JsonNode g = golden().get("qwen2_sample");
        int[] ids = new ObjectMapper().convertValue(g.get("first16_ids"), int[].class);
        try (Checkpoint c = Checkpoint.open(Path.of("..", "samples", "zhinao-tiny"));
             LayerStream s = new LayerStream(c)) {
            int vocab = c.config().vocabSize();
            float[] logits = s.logits(ids);
            for (String pos : new String[]{"0", "7", "15"}) {
                double err = relativeError(logits, Integer.parseInt(pos), vocab, g.get("logits").get(pos));
                assertTrue(err < 1e-4, "position " + pos + ": relative error " + err);
            }
        }
    }

    /** Same generator, config and seed as the models transformers scored (see make_golden.py's caller). */
    static Path ropeModel(Path dir, String variant) throws Exception {
        ObjectNode c = SyntheticModel.config(Architecture.LLAMA, 64, 128, 2, 4, 2, 128);
        c.put("max_position_embeddings", 32);
        ObjectMapper m = new ObjectMapper();
        switch (variant) {
            case "base1e6" -> c.put("rope_theta", 1e6);
            case "linear" -> c.set("rope_scaling", m.readTree("{\"rope_type\":\"linear\",\"factor\":2.0}"));
            case "dynamic" -> c.set("rope_scaling", m.readTree("{\"rope_type\":\"dynamic\",\"factor\":2.0}"));
            case "yarn" -> c.set("rope_scaling", m.readTree(
                    "{\"rope_type\":\"yarn\",\"factor\":4.0,\"original_max_position_embeddings\":32}"));
            case "llama3" -> c.set("rope_scaling", m.readTree("{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,"
                    + "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":32}"));
            default -> { }
        }
        c.put("torch_dtype", "float32");
        return SyntheticModel.write(dir.resolve(variant), c, DType.F32, 7);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "base1e6", "linear", "dynamic", "yarn", "llama3"})
    void ropeVariantsMatchTransformers(String variant) throws Exception {
        JsonNode g = golden().get("rope").get(variant);
        int[] ids = new ObjectMapper().convertValue(g.get("ids"), int[].class);
        try (Checkpoint c = Checkpoint.open(ropeModel(tmp, variant)); LayerStream s = new LayerStream(c)) {
            float[] logits = s.logits(ids);
            for (String pos : new String[]{"0", "31", "63"}) {
                double err = relativeError(logits, Integer.parseInt(pos), 128, g.get("logits").get(pos));
                assertTrue(err < 1e-4, variant + " position " + pos + ": relative error " + err);
            }
        }
    }

    @Test void goldenRopeVariantsReallyDiffer() throws Exception {
        JsonNode r = golden().get("rope");
        double d = Math.abs(r.get("default").get("logits").get("63").get(0).asDouble()
                - r.get("base1e6").get("logits").get("63").get(0).asDouble());
        assertTrue(d > 1e-6, "rope base must change late-position logits");
        assertEquals(64, r.get("yarn").get("ids").size());
    }
}
