package zq.runtime.generate;

/**
 * The outcome of one {@link Generator#generate} call.
 *
 * @param generated       the sampled ids, a stop token excluded
 * @param text            their text, cut before a stop string
 * @param prefillSeconds  time to feed the prompt
 * @param decodeSeconds   time to produce the generated tokens after the first
 * @param kvCacheBytes    native memory of the KV cache at the end
 */
public record GenerationResult(int[] prompt, int[] generated, String text, StopReason stopReason, double prefillSeconds,
                               double decodeSeconds, long kvCacheBytes) {

    /** Generated tokens per second of decoding (the first token comes from the prefill and is not counted). */
    public double tokensPerSecond() {
        return generated.length > 1 && decodeSeconds > 0 ? (generated.length - 1) / decodeSeconds : 0;
    }
}
