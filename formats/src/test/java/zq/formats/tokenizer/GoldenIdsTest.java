package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Ids from the reference Python tokenizers (see golden/README.md): every {@code *.ids.jsonl} in the
 * golden folder is checked case by case against the vocabulary it names.
 */
class GoldenIdsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path goldenDir() throws URISyntaxException {
        return Path.of(GoldenIdsTest.class.getResource("golden/cases.jsonl").toURI()).getParent();
    }

    static List<JsonNode> readLines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void casesCoverThePreprocessingAndScriptEdgeCases() throws Exception {
        Set<String> names = new HashSet<>();
        for (JsonNode c : readLines(goldenDir().resolve("cases.jsonl"))) {
            assertTrue(c.get("name").isTextual() && c.get("text").isTextual(), c.toString());
            assertTrue(names.add(c.get("name").asText()), "duplicate case " + c.get("name"));
        }
        for (String required : new String[] {"spaces-2", "spaces-3", "spaces-4", "spaces-5", "spaces-6", "spaces-8", "spaces-9",
                "spaces-17", "br-html", "br-bracket", "im-start-in-user-text", "chinese", "digits", "emoji", "code"}) {
            assertTrue(names.contains(required), "missing case " + required);
        }
    }

    @TestFactory
    Stream<DynamicTest> goldenIdFiles() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> files = Files.list(goldenDir())) {
            for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".ids.jsonl")).sorted().toList()) {
                List<JsonNode> lines = readLines(file);
                JsonNode header = lines.get(0);
                Tokenizer tokenizer = tokenizerOf(header, file);
                for (JsonNode c : lines.subList(1, lines.size())) {
                    tests.add(DynamicTest.dynamicTest(file.getFileName() + " " + c.get("name").asText(), () -> {
                        int[] expected = JSON.treeToValue(c.get("ids"), int[].class);
                        String text = c.get("text").asText();
                        assertEquals(Arrays.toString(expected), Arrays.toString(tokenizer.encode(text)), "ids of " + JSON.writeValueAsString(text));
                        if (c.has("decoded")) assertEquals(c.get("decoded").asText(), tokenizer.decode(expected));
                    }));
                }
            }
        }
        return tests.stream();
    }

    static Tokenizer tokenizerOf(JsonNode header, Path file) throws IOException, URISyntaxException, NoSuchAlgorithmException {
        assertEquals(1, header.path("golden").asInt(), file + ": first line must be the header");
        Path vocab = goldenDir().resolve(header.get("vocab").asText());
        assertTrue(Files.isRegularFile(vocab), file + " needs its vocabulary " + vocab);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(vocab)));
        assertEquals(header.get("vocab_sha256").asText(), sha, file + ": " + vocab + " is not the vocabulary the ids came from");
        return switch (header.get("kind").asText()) {
            case "zhinao" -> ZhinaoTokenizer.load(vocab);
            case "hf" -> HfTokenizer.load(vocab);
            default -> throw new AssertionError(file + ": kind must be zhinao or hf");
        };
    }
}
