package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/** Expected ids are tiktoken 0.14.0's for the sample vocabulary (formats' golden zhinao-sample.ids.jsonl). */
class TokenizeCommandTest {
    static final Path SAMPLE = Path.of("..", "samples", "zhinao-tiny");

    @Test void jsonIdsMatchTiktoken() throws Exception {
        CliRun r = zq("tokenize", SAMPLE.toString(), "--text", "a     b", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("[97,4007,270]", j.get("ids").toString());     // [space4] then " b"
        assertEquals(3, j.get("pieces").size());
        assertEquals("[space4]", j.get("pieces").get(1).asText());
    }

    @Test void decodeRestoresSpaceRuns() {
        CliRun r = zq("tokenize", SAMPLE.toString(), "--decode", "--text", "97, 4005, 98");
        assertEquals(0, r.code(), r.err());
        assertEquals("a  b", r.out().strip());
    }

    @Test void badIdsAndMissingTokenizerAreBadInput(@org.junit.jupiter.api.io.TempDir Path tmp) {
        CliRun bad = zq("tokenize", SAMPLE.toString(), "--decode", "--text", "97 x");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("integer token ids"), bad.err());
        CliRun missing = zq("tokenize", tmp.toString(), "--text", "hi");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains(tmp.toString()), missing.err());
    }
}
