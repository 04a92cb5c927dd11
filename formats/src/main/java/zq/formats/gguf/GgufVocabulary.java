package zq.formats.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;
import zq.formats.text.ChatTemplate;
import zq.formats.tokenizer.ByteLevelAlphabet;
import zq.formats.tokenizer.LlamaCppPreTokenizer;
import zq.formats.tokenizer.MergeReconstruction;
import zq.formats.tokenizer.TiktokenRanks;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.formats.tokenizer.ZhinaoTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A model's tokenizer as the GGUF keys llama.cpp's {@code llama_vocab::load} reads: a {@code gpt2} (byte-level
 * BPE) vocabulary with tokens in the GPT-2 byte alphabet, token types, merges, the pre-tokenizer name that
 * selects llama.cpp's split regex, special ids and the chat template. Sources: a 360Zhinao tiktoken vocabulary
 * (merges rebuilt by {@link MergeReconstruction}) or a byte-level BPE tokenizer.json. Ids between the tokenizer's
 * last token and the model's vocab_size become unused {@code [PADn]} tokens, as llama.cpp's converter writes.
 *
 * @param unreachable multi-byte tokens no merge builds (llama.cpp's BPE cannot produce them)
 */
public record GgufVocabulary(List<String> tokens, List<Long> types, List<String> merges, String pre, Long bos, Long eos,
                             Long pad, Long unk, boolean addBos, String chatTemplate, int unreachable, String source) {
    /** llama.cpp's {@code llama_token_type}. */
    public static final long NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    private static final ObjectMapper JSON = new ObjectMapper();

    public static GgufVocabulary of(Path modelDir, ModelConfig config) {
        Path tiktoken = modelDir.resolve(ZhinaoTokenizer.VOCAB_FILE);
        Path json = modelDir.resolve(TokenizerLoader.TOKENIZER_JSON);
        if (Files.isRegularFile(tiktoken)) return fromTiktoken(modelDir, tiktoken, config);
        if (Files.isRegularFile(json)) return fromTokenizerJson(modelDir, json, config);
        throw new CheckpointException(modelDir + ": no tokenizer (" + ZhinaoTokenizer.VOCAB_FILE + " or " + TokenizerLoader.TOKENIZER_JSON
                + "); llama.cpp cannot load a GGUF without a vocabulary");
    }

    /** Writes the tokenizer keys. */
    public void putInto(GgufMetadata m) {
        m.putString("tokenizer.ggml.model", "gpt2");
        m.putString("tokenizer.ggml.pre", pre);
        m.putStrings("tokenizer.ggml.tokens", tokens);
        m.putInt32s("tokenizer.ggml.token_type", types);
        m.putStrings("tokenizer.ggml.merges", merges);
        if (bos != null) m.putU32("tokenizer.ggml.bos_token_id", bos);
        if (eos != null) m.putU32("tokenizer.ggml.eos_token_id", eos);
        if (unk != null) m.putU32("tokenizer.ggml.unknown_token_id", unk);
        if (pad != null) m.putU32("tokenizer.ggml.padding_token_id", pad);
        m.putBool("tokenizer.ggml.add_bos_token", addBos);
        if (chatTemplate != null) m.putString("tokenizer.chat_template", chatTemplate);
    }

    private static GgufVocabulary fromTiktoken(Path dir, Path file, ModelConfig config) {
        ZhinaoTokenizer tok = new ZhinaoTokenizer(TiktokenRanks.read(file));
        TiktokenRanks ranks = tok.ranks();
        int size = size(dir, config, tok.vocabSize());
        List<String> tokens = new ArrayList<>(size);
        List<Long> types = new ArrayList<>(size);
        for (int id = 0; id < size; id++) {
            if (tok.isSpecial(id)) {
                tokens.add(tok.piece(id));
                types.add(CONTROL);
            } else if (ranks.contains(id)) {
                tokens.add(ByteLevelAlphabet.encode(ranks.bytes(id)));
                types.add(NORMAL);
            } else {
                tokens.add("[PAD" + id + "]");
                types.add(UNUSED);
            }
        }
        MergeReconstruction r = MergeReconstruction.of(ranks);
        List<String> merges = new ArrayList<>(r.merges().size());
        for (MergeReconstruction.Merge mg : r.merges()) merges.add(r.mergeString(mg));
        Long unk = tok.specialId("<unk>").isPresent() ? (long) tok.specialId("<unk>").getAsInt() : null;
        return new GgufVocabulary(tokens, types, merges, LlamaCppPreTokenizer.nameOf(ZhinaoTokenizer.SPLIT_REGEX), id(config, "bos_token_id"), id(config, "eos_token_id"),
                id(config, "pad_token_id"), unk, false, chatTemplate(dir, tok), r.unreachable().size(), file.toString());
    }

    private static GgufVocabulary fromTokenizerJson(Path dir, Path file, ModelConfig config) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!model.path("type").asText("").equals("BPE") || !model.path("vocab").isObject()) {
            throw new CheckpointException(file + ": GGUF export reads byte-level BPE tokenizer.json files only (model.type BPE), got '"
                    + model.path("type").asText("") + "'");
        }
        Tokenizer tok = TokenizerLoader.load(file);
        int size = size(dir, config, tok.vocabSize());
        String[] tokens = new String[size];
        long[] types = new long[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt();
            if (id >= 0 && id < size) {
                tokens[id] = e.getKey();
                types[id] = NORMAL;
            }
        }
        for (JsonNode a : root.path("added_tokens")) {
            int id = a.path("id").asInt(-1);
            if (id < 0 || id >= size) continue;
            tokens[id] = a.path("content").asText();
            types[id] = a.path("special").asBoolean(false) ? CONTROL : USER_DEFINED;
        }
        List<String> tokenList = new ArrayList<>(size);
        List<Long> typeList = new ArrayList<>(size);
        for (int id = 0; id < size; id++) {
            tokenList.add(tokens[id] != null ? tokens[id] : "[PAD" + id + "]");
            typeList.add(tokens[id] != null ? types[id] : UNUSED);
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode mg : model.path("merges")) {
            merges.add(mg.isArray() ? mg.get(0).asText() + " " + mg.get(1).asText() : mg.asText());
        }
        String regex = splitRegex(root.path("pre_tokenizer"));
        String pre = LlamaCppPreTokenizer.nameOf(regex);
        if (pre == null) throw new CheckpointException(file + ": pre-tokenizer regex is neither Qwen2's nor Llama-3's; zq does not know which "
                    + "llama.cpp pre-tokenizer reproduces it");
        int[] prefix = tok.prefixIds();
        Long bos = id(config, "bos_token_id");
        if (prefix.length == 1) bos = (long) prefix[0];
        return new GgufVocabulary(tokenList, typeList, merges, pre, bos, id(config, "eos_token_id"), id(config, "pad_token_id"),
                null, prefix.length == 1, chatTemplate(dir, tok), 0, file.toString());
    }

    private static int size(Path dir, ModelConfig config, int tokenizerSize) {
        if (tokenizerSize > config.vocabSize()) {
            throw new CheckpointException(dir + ": the tokenizer has " + tokenizerSize + " ids but vocab_size is " + config.vocabSize());
        }
        return config.vocabSize();
    }

    private static Long id(ModelConfig config, String key) {
        JsonNode v = config.json().get(key);
        if (v != null && v.isArray() && v.size() > 0) v = v.get(0);
        return v != null && v.isIntegralNumber() && v.asLong() >= 0 && v.asLong() < config.vocabSize() ? v.asLong() : null;
    }

    /** tokenizer_config.json's chat_template, else chat_template.jinja, else ChatML for a vocabulary with ChatML's tokens. */
    private static String chatTemplate(Path dir, Tokenizer tok) {
        Path cfg = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(cfg)) {
            try {
                JsonNode t = JSON.readTree(cfg.toFile()).get("chat_template");
                if (t != null && t.isTextual()) return t.asText();
            } catch (IOException e) {
                throw new CheckpointException(cfg + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja);
            } catch (IOException e) {
                throw new CheckpointException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        boolean chatml = tok.specialId("<|im_start|>").isPresent() && tok.specialId("<|im_end|>").isPresent();
        return chatml ? ChatTemplate.JINJA : null;
    }

    private static String splitRegex(JsonNode pre) {
        if (pre.path("type").asText("").equals("Split")) return pre.path("pattern").path("Regex").asText(null);
        for (JsonNode p : pre.path("pretokenizers")) {
            String r = splitRegex(p);
            if (r != null) return r;
        }
        return null;
    }

}
