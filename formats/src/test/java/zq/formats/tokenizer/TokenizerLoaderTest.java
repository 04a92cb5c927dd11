package zq.formats.tokenizer;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import zq.formats.CheckpointException;

class TokenizerLoaderTest {
    @TempDir Path dir;

    void writeTiktoken(Path model) throws IOException {
        List<byte[]> tokens = new ArrayList<>();
        for (int i = 0; i < 256; i++) tokens.add(new byte[] {(byte) i});
        new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(model.resolve("vocab/360.tiktoken"));
    }

    @Test
    void detectsTheTokenizerOfAModelFolder() throws IOException {
        Path zhinao = dir.resolve("zhinao");
        writeTiktoken(zhinao);
        assertInstanceOf(ZhinaoTokenizer.class, TokenizerLoader.load(zhinao));

        Path qwen = dir.resolve("qwen");
        new TokenizerJsonBuilder().write(qwen.resolve("tokenizer.json"));
        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(qwen));

        // both present (a zq --to qwen2 folder): tokenizer.json, as a stock loader reads it
        new TokenizerJsonBuilder().write(zhinao.resolve("tokenizer.json"));
        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(zhinao));

        assertInstanceOf(HfTokenizer.class, TokenizerLoader.load(qwen.resolve("tokenizer.json")));
        assertInstanceOf(ZhinaoTokenizer.class, TokenizerLoader.load(zhinao.resolve("vocab/360.tiktoken")));
    }

    @Test
    void errorsSayWhatWasExpectedAndWhatWasFound() throws IOException {
        Path llama2 = dir.resolve("llama2");
        Files.createDirectories(llama2);
        Files.writeString(llama2.resolve("tokenizer.model"), "sentencepiece");
        CheckpointException e = assertThrows(CheckpointException.class, () -> TokenizerLoader.load(llama2));
        assertTrue(e.getMessage().contains("vocab/360.tiktoken") && e.getMessage().contains("tokenizer.json")
                && e.getMessage().contains("tokenizer.model"), e.getMessage());

        e = assertThrows(CheckpointException.class, () -> TokenizerLoader.load(dir.resolve("absent")));
        assertTrue(e.getMessage().contains("absent"), e.getMessage());

        e = assertThrows(CheckpointException.class, () -> TokenizerLoader.load(llama2.resolve("tokenizer.model")));
        assertTrue(e.getMessage().contains("not a tokenizer file"), e.getMessage());
    }
}
