package zq.formats.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** Valid tokenizer files for tests outside this package (the fuzzer mutates them). */
public final class TokenizerSeeds {
    private TokenizerSeeds() {}

    /** A Qwen2-style byte-level BPE tokenizer.json with a few merges, an added special token and a normalizer. */
    public static Path tokenizerJson(Path file) throws IOException {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().mergeText("h", "e").mergeText("l", "l").mergeText("he", "ll")
                .mergeText(" ", "w").mergeText("o", "r").special("<|endoftext|>").set("normalizer", TokenizerJsonBuilder.type("NFC"));
        return b.write(file);
    }
}
