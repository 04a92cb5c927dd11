package zq.formats.tokenizer;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;

/**
 * The {@code model} of a byte-level tokenizer.json of type BPE: each pre-token's UTF-8 bytes are
 * single-byte symbols (the vocabulary stores them in {@link ByteLevelAlphabet} form), merged by the
 * merge list (earlier merges first, leftmost on ties), after looking the whole pre-token up when
 * {@code ignore_merges} is set (Llama-3).
 */
final class HfBpeModel {
    private final Map<String, Integer> vocab;
    private final String[] tokens;
    private final ByteBpe bpe;

    private HfBpeModel(Map<String, Integer> vocab, String[] tokens, ByteBpe bpe) {
        this.vocab = vocab;
        this.tokens = tokens;
        this.bpe = bpe;
    }

    static HfBpeModel parse(JsonNode model, String file) {
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new CheckpointException(file + ": model type '" + type + "' is not supported (only BPE)");
        }
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode()) {
            throw new CheckpointException(file + ": BPE dropout is set; zq encodes deterministically and does not support it");
        }
        for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode n = model.path(field);
            if (!n.isMissingNode() && !n.isNull() && !n.asText().isEmpty()) {
                throw new CheckpointException(file + ": BPE " + field + " '" + n.asText() + "' is not supported");
            }
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw new CheckpointException(file + ": BPE byte_fallback (SentencePiece-style vocabularies) is not supported");
        }
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject() || vocabNode.isEmpty()) {
            throw new CheckpointException(file + ": model.vocab is missing or empty");
        }
        Map<String, Integer> vocab = new java.util.HashMap<>(vocabNode.size() * 2);
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getValue().asInt() > Tokenizer.MAX_ID) {
                throw new CheckpointException(file + ": vocab entry '" + e.getKey() + "' has id " + e.getValue()
                        + ", not an integer in 0.." + Tokenizer.MAX_ID);
            }
            vocab.put(e.getKey(), e.getValue().asInt());
            maxId = Math.max(maxId, e.getValue().asInt());
        }
        String[] tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (tokens[e.getValue()] != null) {
                throw new CheckpointException(file + ": vocab id " + e.getValue() + " is given to both '"
                        + tokens[e.getValue()] + "' and '" + e.getKey() + "'");
            }
            tokens[e.getValue()] = e.getKey();
        }
        JsonNode mergesNode = model.path("merges");
        if (!mergesNode.isArray()) throw new CheckpointException(file + ": model.merges is missing");
        PairTable merges = new PairTable(mergesNode.size());
        int rank = 0;
        for (JsonNode m : mergesNode) {
            String left;
            String right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw new CheckpointException(file + ": merge #" + rank + " '" + m.asText() + "' is not two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw new CheckpointException(file + ": merge #" + rank + " " + m + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            int leftId = idForMerge(vocab, left, rank, file);
            int rightId = idForMerge(vocab, right, rank, file);
            int mergedId = idForMerge(vocab, left + right, rank, file);
            merges.put(leftId, rightId, rank, mergedId);
            rank++;
        }
        ByteTokenTable table = new ByteTokenTable(tokens.length, vocab.size());
        for (int id = 0; id < tokens.length; id++) {
            byte[] bytes = tokens[id] == null ? null : ByteLevelAlphabet.decodeOrNull(tokens[id]);
            if (bytes != null && bytes.length > 0) table.add(id, bytes);
        }
        for (int b = 0; b < 256; b++) {
            if (table.idOf(new byte[] {(byte) b}, 0, 1) < 0) {
                throw new CheckpointException(file + ": byte-level vocab has no token for byte 0x"
                        + String.format("%02X", b) + " ('" + ByteLevelAlphabet.charOf(b) + "')");
            }
        }
        return new HfBpeModel(vocab, tokens, new ByteBpe(table, merges, model.path("ignore_merges").asBoolean(false)));
    }

    private static int idForMerge(Map<String, Integer> vocab, String token, int rank, String file) {
        Integer id = vocab.get(token);
        if (id == null) throw new CheckpointException(file + ": merge #" + rank + " needs '" + token + "', which is not in the vocab");
        return id;
    }

    /** Id of a vocabulary string, or null. */
    Integer id(String token) { return vocab.get(token); }

    /** Vocabulary string of {@code id}, or null. */
    String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    /** One more than the largest vocabulary id. */
    int idLimit() { return tokens.length; }

    /** Appends the ids of the pre-token {@code text[start..end)}; {@code utf8} is scratch space. */
    void encode(String text, int start, int end, Utf8Buffer utf8, IntList out) {
        int length = utf8.encode(text, start, end);
        bpe.encode(utf8.bytes, length, out);
    }
}
