package zq.formats.tokenizer;

/**
 * llama.cpp picks its pre-tokenizer regex by name ({@code tokenizer.ggml.pre}, src/llama-vocab.cpp); these
 * are the names whose regex is one zq's tokenizers run.
 */
public final class LlamaCppPreTokenizer {
    private LlamaCppPreTokenizer() {}

    /** "qwen2" for Qwen2's (and 360Zhinao's) regex, "llama-bpe" for Llama 3's, null for any other. */
    public static String nameOf(String regex) {
        if (QwenStyleScanner.QWEN2_REGEX.equals(regex)) return "qwen2";
        if (QwenStyleScanner.LLAMA3_REGEX.equals(regex)) return "llama-bpe";
        return null;
    }
}
