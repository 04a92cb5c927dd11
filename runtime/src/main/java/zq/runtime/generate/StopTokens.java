package zq.runtime.generate;

import zq.formats.tokenizer.Tokenizer;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tokens that end generation unless the user says otherwise: the end-of-text and ChatML specials the
 * tokenizer defines. 360Zhinao's own quick start stops on {@code <eod>}, {@code <|im_end|>} and
 * {@code <|im_start|>} (a model that starts a new turn has finished its own); Qwen2 and Llama 3 end with
 * {@code <|endoftext|>}, {@code <|eot_id|>} or {@code <|end_of_text|>}.
 */
public final class StopTokens {
    static final List<String> DEFAULT = List.of("<eod>", "<|im_end|>", "<|im_start|>", "<|endoftext|>", "<|eot_id|>",
            "<|end_of_text|>", "</s>");

    private StopTokens() {}

    /** Ids of the default stops this tokenizer has. */
    public static Set<Integer> defaults(Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String s : DEFAULT) tokenizer.specialId(s).ifPresent(ids::add);
        return ids;
    }
}
