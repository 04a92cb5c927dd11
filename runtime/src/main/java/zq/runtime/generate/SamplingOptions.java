package zq.runtime.generate;

/**
 * How the next token is chosen from the logits, in the order transformers applies its logits processors:
 * repetition penalty, presence and frequency penalties, temperature, top-k, top-p, then a draw.
 *
 * @param temperature       0 for greedy (argmax of the penalised logits)
 * @param topK              0 for no limit
 * @param topP              1 for no limit
 * @param repetitionPenalty transformers' {@code repetition_penalty} over prompt and generated tokens; 1 for none
 * @param presencePenalty   OpenAI's: subtracted once from every token generated so far; 0 for none
 * @param frequencyPenalty  OpenAI's: subtracted once per occurrence among the generated tokens; 0 for none
 * @param seed              the random draws' seed: the same seed gives the same tokens
 */
public record SamplingOptions(double temperature, int topK, double topP, double repetitionPenalty,
                              double presencePenalty, double frequencyPenalty, long seed) {
    public SamplingOptions {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("--temperature must be ≥ 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("--top-k must be ≥ 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("--repetition-penalty must be positive, got " + repetitionPenalty);
        }
        if (!Double.isFinite(presencePenalty) || !Double.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("presence and frequency penalties must be finite");
        }
    }

    /** Greedy decoding without penalties. */
    public static SamplingOptions greedy() { return new SamplingOptions(0, 0, 1, 1, 0, 0, 0); }

    public boolean isGreedy() { return temperature == 0 || topK == 1; }
}
