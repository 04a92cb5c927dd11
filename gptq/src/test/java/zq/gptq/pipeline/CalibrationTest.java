package zq.gptq.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.tokenizer.ByteLevelAlphabet;

class CalibrationTest {
    @TempDir Path tmp;

    /** A byte-level BPE tokenizer.json without merges: every UTF-8 byte b is one token with id b. */
    private Path byteTokenizerModel() throws Exception {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), b);
        model.putArray("merges");
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(dir.resolve("tokenizer.json"), root.toString());
        return dir;
    }

    @Test
    void textIsTokenizedWithTheModelsTokenizerAndCutIntoExactWindows() throws Exception {
        String text = "GPTQ calibrates on real text: windows of exactly seqlen tokens, drawn at seeded random offsets. ";
        Path file = Files.writeString(tmp.resolve("calib.txt"), text.repeat(3));
        byte[] bytes = text.repeat(3).getBytes(StandardCharsets.UTF_8);
        Calibration c = Calibration.load(file, null, byteTokenizerModel(), 5, 16, 7);
        assertEquals(5, c.nsamples());
        assertEquals(80, c.tokens());
        for (int[] w : c.windows()) {
            assertEquals(16, w.length);
            // each window is 16 consecutive bytes of the file
            boolean found = false;
            for (int start = 0; start + 16 <= bytes.length && !found; start++) {
                int[] want = new int[16];
                for (int i = 0; i < 16; i++) want[i] = bytes[start + i] & 0xFF;
                found = Arrays.equals(want, w);
            }
            assertTrue(found, Arrays.toString(w));
        }
        Calibration again = Calibration.load(file, "text", byteTokenizerModel(), 5, 16, 7);
        for (int i = 0; i < 5; i++) assertArrayEquals(c.windows().get(i), again.windows().get(i), "same seed, same windows");
    }

    @Test
    void tokenFilesNeedNoTokenizer() throws Exception {
        Path file = Files.writeString(tmp.resolve("calib.tokens"), "5 6 7 8 9 10 11 12\n13 14");
        Calibration c = Calibration.load(file, null, tmp.resolve("no-model-here"), 1, 10, 0);
        assertEquals(1, c.nsamples());
        for (int[] w : c.windows()) assertArrayEquals(new int[]{5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, w);
    }

    @Test
    void badCalibrationInputIsReportedClearly() throws Exception {
        Path file = Files.writeString(tmp.resolve("short.tokens"), "1 2 3");
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                () -> Calibration.load(file, "tokens", tmp, 2, 8, 0));
        assertTrue(tooShort.getMessage().contains("has 3 tokens: 0 disjoint windows of seqlen 8 fit"), tooShort.getMessage());
        IllegalArgumentException format = assertThrows(IllegalArgumentException.class,
                () -> Calibration.load(file, "parquet", tmp, 2, 2, 0));
        assertTrue(format.getMessage().contains("unknown corpus format 'parquet'"), format.getMessage());
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> new Calibration("hand-made", 4, 0, List.of(new int[]{1, 2, 3, 4}, new int[]{1, 2})));
        assertEquals("hand-made: calibration window 1 has 2 tokens, expected seqlen 4", ragged.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new Calibration("hand-made", 4, 0, List.of()));
        assertEquals("hand-made: no calibration windows", empty.getMessage());
    }

    @Test
    void peakRssLineIsParsedInKilobytes() {
        assertEquals(123456, PeakMemory.parseKilobytes("VmHWM:\t  123456 kB"));
        assertThrows(IllegalArgumentException.class, () -> PeakMemory.parseKilobytes("VmHWM:\t 12 MB"));
    }
}
