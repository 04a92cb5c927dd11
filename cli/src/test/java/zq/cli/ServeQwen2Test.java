package zq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import zq.formats.tokenizer.HfTokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.formats.tokenizer.ZhinaoTokenizer;

/**
 * {@code zq convert --to qwen2} on the sample gives a folder a stock loader serves: no remote-code
 * file, a tokenizer.json zq itself then prefers, and text scored exactly as on the original.
 * (The tokenizer.json's ids are checked against tiktoken and the Rust and JavaScript Hugging Face
 * tokenizers in formats' ZhinaoTokenizerJsonTest; here the whole command chain is.)
 */
class ServeQwen2Test {
    static final Path SAMPLE = Path.of("..", "samples", "zhinao-tiny");
    static final Path EVAL = Path.of("..", "samples", "data", "eval.txt");
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> REMOTE_CODE = List.of("modeling_zhinao.py", "configuration_zhinao.py", "tokenization_zhinao.py");
    @TempDir static Path tmp;
    static Path original;
    static Path qwen2;

    @BeforeAll
    static void convert() throws Exception {
        // the sample plus the remote-code files a real 360Zhinao folder carries
        original = tmp.resolve("zhinao");
        try (Stream<Path> files = Files.walk(SAMPLE)) {
            for (Path f : files.toList()) {
                Path to = original.resolve(SAMPLE.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        for (String py : REMOTE_CODE) Files.writeString(original.resolve(py), "# 360's remote code\n");
        qwen2 = tmp.resolve("qwen2");
        CliRun r = zq("convert", original.toString(), "-o", qwen2.toString(), "--to", "qwen2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tokenizer: tokenizer.json from vocab/360.tiktoken (4000 tokens, 3744 merges, 0 tokens only as whole pieces, 11 added)"), r.out());
    }

    static JsonNode read(Path file) throws Exception { return JSON.readTree(file.toFile()); }

    @Test
    void theQwen2FolderHasStockFilesOnly() throws Exception {
        for (String py : REMOTE_CODE) assertFalse(Files.exists(qwen2.resolve(py)), py + " must not be copied");
        assertTrue(Files.isRegularFile(qwen2.resolve("vocab/360.tiktoken")), "the vocabulary stays for --to zhinao");
        JsonNode tc = read(qwen2.resolve("tokenizer_config.json"));
        assertFalse(tc.has("auto_map"));
        assertEquals("PreTrainedTokenizerFast", tc.get("tokenizer_class").asText());
        assertFalse(tc.get("clean_up_tokenization_spaces").asBoolean(true));
        assertEquals(read(SAMPLE.resolve("tokenizer_config.json")).get("chat_template"), tc.get("chat_template"));
        // stop at <eod> 4003, <|im_start|> 4009, <|im_end|> 4010 (4000 ranks, then the 11 specials)
        assertEquals("[4003,4009,4010]", read(qwen2.resolve("generation_config.json")).get("eos_token_id").toString());
        assertEquals("[4003,4009,4010]", read(qwen2.resolve("config.json")).get("eos_token_id").toString());
        assertEquals(4000, read(qwen2.resolve("generation_config.json")).get("pad_token_id").asInt());
        JsonNode tj = read(qwen2.resolve("tokenizer.json"));
        assertEquals("BPE", tj.get("model").get("type").asText());
        assertTrue(tj.get("model").get("ignore_merges").asBoolean());
        assertEquals(4000, tj.get("model").get("vocab").size());
    }

    @Test
    void inspectSaysWhichFilesAskForRemoteCode() throws Exception {
        CliRun before = zq("inspect", original.toString());
        assertEquals(0, before.code(), before.err());
        assertTrue(before.out().contains("Remote code    needed (trust_remote_code)"), before.out());
        assertTrue(before.out().contains("config.json auto_map.AutoModelForCausalLM -> modeling_zhinao.ZhinaoForCausalLM (modeling_zhinao.py)"), before.out());
        assertTrue(before.out().contains("tokenizer_config.json auto_map.AutoTokenizer -> tokenization_zhinao.ZhinaoTokenizer (tokenization_zhinao.py)"), before.out());
        CliRun after = zq("inspect", qwen2.toString(), "--json");
        assertEquals(0, after.code(), after.err());
        JsonNode rc = JSON.readTree(after.out()).get("remote_code");
        assertFalse(rc.get("needed").asBoolean(true), after.out());
        assertEquals(0, rc.get("requests").size());
        // the sample itself has no Python files: inspect says the module is missing
        CliRun sample = zq("inspect", SAMPLE.toString());
        assertTrue(sample.out().contains("(modeling_zhinao.py, missing)"), sample.out());
    }

    @Test
    void zqReadsTheConvertedFolderWithItsTokenizerJsonAndScoresTextTheSame() throws Exception {
        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(qwen2));
        String text = Files.readString(EVAL);
        assertArrayEquals(ZhinaoTokenizer.load(SAMPLE.resolve("vocab/360.tiktoken")).encode(text), TokenizerLoader.load(qwen2).encode(text));
        CliRun a = zq("ppl", SAMPLE.toString(), "--text", EVAL.toString(), "--seqlen", "256", "--json");
        CliRun b = zq("ppl", qwen2.toString(), "--text", EVAL.toString(), "--seqlen", "256", "--json");
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        JsonNode pa = JSON.readTree(a.out()), pb = JSON.readTree(b.out());
        // the conversion is exact (bit-identical logits) and the tokens are the same, so ppl is equal, not close
        assertEquals(pa.get("ppl").asDouble(), pb.get("ppl").asDouble(), 0.0, a.out() + b.out());
        assertEquals(pa.get("tokens").asLong(), pb.get("tokens").asLong());
    }

    @Test
    void withoutTheNormalizerTheConvertedFolderWouldTokenizeSpacesDifferently() throws Exception {
        // the wrong alternative: a tokenizer.json without 360's pre-processing gives other ids for code
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        ObjectNode tj = (ObjectNode) read(qwen2.resolve("tokenizer.json"));
        tj.putNull("normalizer");
        JSON.writeValue(broken.resolve("tokenizer.json").toFile(), tj);
        String code = "def f(x):\n        return x  # [br] done";
        assertNotEquals(TokenizerLoader.load(qwen2).encode(code).length, TokenizerLoader.load(broken).encode(code).length);
    }

    @Test
    void toZhinaoWritesTheZhinaoTokenizerConfigBack() throws Exception {
        Path back = tmp.resolve("back");
        CliRun r = zq("convert", qwen2.toString(), "-o", back.toString(), "--to", "zhinao");
        assertEquals(0, r.code(), r.err());
        assertEquals(read(SAMPLE.resolve("tokenizer_config.json")), read(back.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(back.resolve("tokenizer.json")), "the synthesized tokenizer.json holds nothing the vocabulary does not");
        assertInstanceOf(ZhinaoTokenizer.class, TokenizerLoader.load(back));
        assertArrayEquals(Files.readAllBytes(SAMPLE.resolve("vocab/360.tiktoken")), Files.readAllBytes(back.resolve("vocab/360.tiktoken")));
    }

    @Test
    void aGptqCheckpointGetsTheSameTokenizerFiles() throws Exception {
        // RTN is the quickest way to a GPTQ-layout checkpoint of the sample; --to qwen2 takes the same path for GPTQ
        Path gptq = tmp.resolve("rtn");
        CliRun q = zq("quantize", original.toString(), "-o", gptq.toString(), "--method", "rtn", "--group-size", "128");
        assertEquals(0, q.code(), q.err());
        Path out = tmp.resolve("rtn-qwen2");
        CliRun r = zq("convert", gptq.toString(), "-o", out.toString(), "--to", "qwen2");
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json", "quantize_config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(name)), name);
        }
        assertArrayEquals(Files.readAllBytes(qwen2.resolve("tokenizer.json")), Files.readAllBytes(out.resolve("tokenizer.json")));
        assertArrayEquals(Files.readAllBytes(qwen2.resolve("tokenizer_config.json")), Files.readAllBytes(out.resolve("tokenizer_config.json")));
        for (String py : REMOTE_CODE) {
            assertTrue(Files.exists(gptq.resolve(py)), "quantize keeps the remote code of a Zhinao model: " + py);
            assertFalse(Files.exists(out.resolve(py)), py);
        }
        assertFalse(JSON.readTree(zq("inspect", out.toString(), "--json").out()).get("remote_code").get("needed").asBoolean(true));
    }

    @Test
    void aBrokenVocabularyIsOneLineAndNoOutput() throws Exception {
        Path broken = tmp.resolve("broken-vocab");
        Files.createDirectories(broken.resolve("vocab"));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer_config.json")) Files.copy(SAMPLE.resolve(f), broken.resolve(f));
        Files.writeString(broken.resolve("vocab/360.tiktoken"), "IQ== 0\nnot-base64! 1\n");
        Path out = tmp.resolve("broken-out");
        CliRun r = zq("convert", broken.toString(), "-o", out.toString(), "--to", "qwen2");
        ConvertCommandTest.assertBadInput(r, "360.tiktoken line 2: invalid base64 'not-base64!'");
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));
    }
}
