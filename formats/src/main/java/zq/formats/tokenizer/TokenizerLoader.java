package zq.formats.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import zq.formats.CheckpointException;

/**
 * Finds and loads a model's tokenizer: the one a stock loader (transformers' fast tokenizer, vLLM)
 * would use. In a model folder {@code tokenizer.json} wins; {@code vocab/360.tiktoken} (360Zhinao)
 * is read when there is no tokenizer.json. A Qwen2 folder written by {@code zq convert --to qwen2}
 * has both, with a tokenizer.json that gives the same ids ({@link ZhinaoTokenizerJson}). A path to
 * a {@code .tiktoken} or {@code .json} file loads that file.
 */
public final class TokenizerLoader {
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private TokenizerLoader() {}

    public static Tokenizer load(Path modelDirOrFile) {
        if (Files.isRegularFile(modelDirOrFile)) {
            String name = modelDirOrFile.getFileName().toString();
            if (name.endsWith(".tiktoken")) return ZhinaoTokenizer.load(modelDirOrFile);
            if (name.endsWith(".json")) return HfTokenizer.load(modelDirOrFile);
            throw new CheckpointException(modelDirOrFile + ": not a tokenizer file (expected a .tiktoken vocabulary or a tokenizer.json)");
        }
        if (!Files.isDirectory(modelDirOrFile)) {
            throw new CheckpointException(modelDirOrFile + ": no such model folder or tokenizer file");
        }
        Path json = modelDirOrFile.resolve(TOKENIZER_JSON);
        if (Files.isRegularFile(json)) return HfTokenizer.load(json);
        Path tiktoken = modelDirOrFile.resolve(ZhinaoTokenizer.VOCAB_FILE);
        if (Files.isRegularFile(tiktoken)) return ZhinaoTokenizer.load(tiktoken);

        List<String> unsupported = new ArrayList<>();
        for (String other : new String[] {"tokenizer.model", "vocab.json", "merges.txt", "qwen.tiktoken"}) {
            if (Files.exists(modelDirOrFile.resolve(other))) unsupported.add(other);
        }
        throw new CheckpointException("no tokenizer in " + modelDirOrFile + ": expected " + TOKENIZER_JSON
                + " (Hugging Face fast tokenizer) or " + ZhinaoTokenizer.VOCAB_FILE + " (360Zhinao)"
                + (unsupported.isEmpty() ? "" : "; found only " + String.join(", ", unsupported) + ", which zq does not read"));
    }
}
