package zq.formats.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import zq.formats.CheckpointException;

/**
 * Finds and loads a model's tokenizer. In a model folder, {@code vocab/360.tiktoken} (360Zhinao)
 * wins over {@code tokenizer.json}, because a 360Zhinao folder's tiktoken file is its reference
 * tokenizer; a path to a {@code .tiktoken} or {@code .json} file loads that file.
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
        Path tiktoken = modelDirOrFile.resolve(ZhinaoTokenizer.VOCAB_FILE);
        if (Files.isRegularFile(tiktoken)) return ZhinaoTokenizer.load(tiktoken);
        Path json = modelDirOrFile.resolve(TOKENIZER_JSON);
        if (Files.isRegularFile(json)) return HfTokenizer.load(json);

        List<String> unsupported = new ArrayList<>();
        for (String other : new String[] {"tokenizer.model", "vocab.json", "merges.txt", "qwen.tiktoken"}) {
            if (Files.exists(modelDirOrFile.resolve(other))) unsupported.add(other);
        }
        throw new CheckpointException("no tokenizer in " + modelDirOrFile + ": expected " + ZhinaoTokenizer.VOCAB_FILE
                + " (360Zhinao) or " + TOKENIZER_JSON + " (Hugging Face fast tokenizer)"
                + (unsupported.isEmpty() ? "" : "; found only " + String.join(", ", unsupported) + ", which zq does not read"));
    }
}
