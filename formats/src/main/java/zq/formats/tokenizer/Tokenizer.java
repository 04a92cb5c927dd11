package zq.formats.tokenizer;

import java.util.Map;
import java.util.OptionalInt;

/**
 * A model's tokenizer: text to token ids and back, with the exact ids of the model's reference
 * (Python) tokenizer, so that perplexity and KL divergence are measured on the tokens the model saw.
 *
 * <p>{@link #encode} is the plain text encoding (Python {@code tokenizer.encode(text)} for 360Zhinao,
 * {@code tokenizer.encode(text, add_special_tokens=False)} for a tokenizer.json); the ids a model's
 * post-processor adds around one sequence (Llama-3's BOS) are {@link #prefixIds()} and
 * {@link #suffixIds()}. Special-token text in the input is always encoded to the special id.
 */
public interface Tokenizer {
    /**
     * The largest token id a vocabulary file may use: ten times the largest vocabularies in use (about 256K), and small
     * enough that the id-indexed tables of a hostile file with one huge id cannot exhaust the heap.
     */
    int MAX_ID = (1 << 22) - 1;


    /** Token ids of {@code text}. */
    int[] encode(String text);

    /** Text of {@code ids}, special tokens written as their text; same as {@code decode(ids, false)}. */
    default String decode(int[] ids) { return decode(ids, false); }

    /**
     * Text of {@code ids}. Bytes are joined before UTF-8 decoding, so a character split across tokens
     * comes back whole; invalid UTF-8 becomes U+FFFD as in Python's {@code errors="replace"}.
     *
     * @param skipSpecialTokens drop the special tokens that the reference tokenizer drops
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /**
     * Display form of one token, as the reference tokenizer lists it: the vocabulary string for a
     * tokenizer.json (e.g. {@code "Ġhello"}), the token's text for a tiktoken vocabulary, with bytes
     * that are not valid UTF-8 on their own written as {@code \xNN}; a special token's text.
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    String piece(int id);

    /**
     * Raw bytes that the token stands for in decoded text (a special token's text in UTF-8).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    byte[] tokenBytes(int id);

    /** Number of ids the tokenizer defines: one more than the largest id. */
    int vocabSize();

    /** Id of a special (added) token given by its text, such as {@code "<|im_end|>"}. */
    OptionalInt specialId(String text);

    /** Special tokens by text, in id order. */
    Map<String, Integer> specialTokens();

    /**
     * Whether {@code id} is a special token: for 360Zhinao's tokenizer all eleven added tokens, its
     * {@code [spaceN]} included; for a tokenizer.json the added tokens marked {@code special}.
     */
    boolean isSpecial(int id);

    /** Ids the model's post-processor puts before one sequence (Llama-3: BOS); empty if none. */
    int[] prefixIds();

    /** Ids the model's post-processor puts after one sequence; empty if none. */
    int[] suffixIds();

    /** One line saying what this tokenizer is and where it was read from. */
    String description();
}
