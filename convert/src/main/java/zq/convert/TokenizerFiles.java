package zq.convert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;
import zq.formats.tokenizer.MergeReconstruction;
import zq.formats.tokenizer.TokenizerLoader;
import zq.formats.tokenizer.ZhinaoTokenizer;
import zq.formats.tokenizer.ZhinaoTokenizerJson;

/**
 * The tokenizer side of Zhinao ⇄ Qwen2. {@code --to qwen2} turns 360's remote-code tokenizer into
 * stock files: a tokenizer.json synthesized from {@code vocab/360.tiktoken} (kept, so the way back
 * works), a tokenizer_config.json without {@code auto_map}, and the chat stop ids in
 * generation_config.json and config.json. {@code --to zhinao} writes 360's tokenizer_config.json
 * back and drops a tokenizer.json that is only the synthesized copy of the vocabulary.
 */
final class TokenizerFiles {
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String GENERATION_CONFIG = "generation_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ZhinaoTokenizer tokenizer;
    private final MergeReconstruction merges;
    private final ObjectNode tokenizerJson;

    private TokenizerFiles(ZhinaoTokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.merges = MergeReconstruction.of(tokenizer.ranks());
        this.tokenizerJson = ZhinaoTokenizerJson.of(merges, true);
    }

    /** One line for the conversion summary. */
    String describe(Architecture target) {
        if (target == Architecture.ZHINAO) {
            return "tokenizer: 360's tokenizer_config.json (ZhinaoTokenizer, loaded with 360's tokenization_zhinao.py)";
        }
        return "tokenizer: tokenizer.json from " + ZhinaoTokenizer.VOCAB_FILE + " (" + tokenizer.ranks().count() + " tokens, "
                + merges.merges().size() + " merges, " + merges.unreachable().size() + " tokens only as whole pieces, "
                + ZhinaoTokenizer.SPECIAL_TOKENS.size() + " added), stock tokenizer_config.json, no remote-code files";
    }

    /** The tokenizer files for converting {@code modelDir} to {@code target}, or null when there is nothing to rewrite. */
    static TokenizerFiles forTarget(Path modelDir, Architecture target) {
        if (target != Architecture.QWEN2 && target != Architecture.ZHINAO) return null;
        Path vocab = modelDir.resolve(ZhinaoTokenizer.VOCAB_FILE);
        if (!Files.isRegularFile(vocab)) return null;
        return new TokenizerFiles(ZhinaoTokenizer.load(vocab));
    }

    /** The ids a chat model stops at: {@code <eod>}, {@code <|im_start|>}, {@code <|im_end|>}. */
    ArrayNode stopIds() {
        ArrayNode ids = JSON.createArrayNode();
        for (String s : ZhinaoTokenizer.STOP_TOKENS) ids.add(tokenizer.specialId(s).getAsInt());
        return ids;
    }

    /** Sets config.json's {@code eos_token_id} to the stop ids, so loaders without a generation_config stop too. */
    void setStopIds(ObjectNode config) { config.set("eos_token_id", stopIds()); }

    /** Writes the Qwen2 tokenizer files into {@code out} (which holds the copied companion files). */
    void writeQwen2(Path modelDir, Path out, int maxPositions) throws IOException {
        Files.writeString(out.resolve(TokenizerLoader.TOKENIZER_JSON), JSON.writeValueAsString(tokenizerJson) + "\n");
        ObjectNode zhinaoConfig = readObject(modelDir.resolve(TOKENIZER_CONFIG));
        ModelConfig.write(ZhinaoTokenizerJson.stockConfig(zhinaoConfig, tokenizerJson, maxPositions), out.resolve(TOKENIZER_CONFIG));
        ObjectNode generation = readObject(modelDir.resolve(GENERATION_CONFIG));
        generation.set("eos_token_id", stopIds());
        if (!generation.has("pad_token_id")) generation.put("pad_token_id", tokenizer.specialId("<pad>").getAsInt());
        ModelConfig.write(generation, out.resolve(GENERATION_CONFIG));
    }

    /**
     * Writes 360's tokenizer_config.json into {@code out} and removes a copied tokenizer.json that
     * equals the one synthesized from the vocabulary (it holds nothing the vocabulary does not);
     * a different tokenizer.json is kept.
     */
    void writeZhinao(Path modelDir, Path out) throws IOException {
        Path stock = modelDir.resolve(TOKENIZER_CONFIG);
        if (Files.isRegularFile(stock)) {
            ObjectNode config = readObject(stock);
            if (!config.has("auto_map")) ModelConfig.write(ZhinaoTokenizerJson.zhinaoConfig(config), out.resolve(TOKENIZER_CONFIG));
        }
        Path json = out.resolve(TokenizerLoader.TOKENIZER_JSON);
        if (Files.isRegularFile(json) && readObject(json).equals(tokenizerJson)) Files.delete(json);
    }

    /** The JSON object in {@code file}, or an empty object when the file does not exist. */
    private static ObjectNode readObject(Path file) {
        if (!Files.isRegularFile(file)) return JSON.createObjectNode();
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(n instanceof ObjectNode o)) throw new CheckpointException(file + ": not a JSON object");
        return o;
    }

    /** Remote-code files a Qwen2 folder must not carry: 360's modeling, configuration and tokenization Python. */
    static boolean isRemoteCode(String name) { return name.endsWith(".py"); }
}
