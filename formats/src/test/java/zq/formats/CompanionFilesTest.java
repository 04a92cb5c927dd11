package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class CompanionFilesTest {
    @TempDir Path tmp;

    @Test void copiesTokenizerGenerationCodeAndLicenceButNeverWeightsOrConfig() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in")), out = Files.createDirectories(tmp.resolve("out"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json", "modeling_zhinao.py",
                "LICENSE", "README.md", "config.json", "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "quantize_config.json")) {
            Files.writeString(in.resolve(f), f);
        }
        Files.createDirectories(in.resolve("vocab"));
        Files.writeString(in.resolve("vocab/360.tiktoken"), "IQ== 0\n");
        Files.createDirectories(in.resolve("original"));
        Files.writeString(in.resolve("original/consolidated.00.pth"), "big");
        Files.createDirectories(in.resolve(".git"));
        Files.writeString(in.resolve(".git/HEAD"), "ref");

        List<String> copied = CompanionFiles.copy(in, out);

        assertEquals(List.of("LICENSE", "README.md", "generation_config.json", "modeling_zhinao.py", "tokenizer.json",
                "tokenizer_config.json", "vocab/360.tiktoken"), copied);
        assertEquals("IQ== 0\n", Files.readString(out.resolve("vocab/360.tiktoken")));
        for (String f : List.of("config.json", "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "quantize_config.json", "original", ".git")) {
            assertFalse(Files.exists(out.resolve(f)), f + " must not be copied");
        }
    }
}
