package zq.runtime.generate;

import zq.formats.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The generation loop: feed the prompt, then sample, check the stops and step, one token at a time, handing
 * the text to a sink as soon as it is final. Text is held back while it could still change: a trailing
 * U+FFFD (a character whose UTF-8 bytes are split across tokens) and any tail that could be the start of a
 * stop string.
 */
public final class Generator {
    private final Session session;
    private final Tokenizer tokenizer;

    /** @param tokenizer the model's tokenizer; null to generate ids only (no text, no stop strings) */
    public Generator(Session session, Tokenizer tokenizer) {
        this.session = session;
        this.tokenizer = tokenizer;
    }

    public Session session() { return session; }

    /** The generated ids alone. */
    public int[] generateIds(GenerationRequest request) { return generate(request, text -> { }).generated(); }

    /** Generates, handing text to {@code sink} as it becomes final. */
    public GenerationResult generate(GenerationRequest request, Consumer<String> sink) {
        if (tokenizer == null && !request.stopStrings().isEmpty()) throw new IllegalArgumentException("stop strings need a tokenizer");
        long t0 = System.nanoTime();
        int[] prompt = request.prompt();
        float[] logits = session.feed(prompt);
        long t1 = System.nanoTime();
        Sampler sampler = new Sampler(request.sampling());
        int[] context = Arrays.copyOf(prompt, prompt.length + request.maxNewTokens());
        int n = 0, emitted = 0;
        String text = "";
        StopReason reason = null;
        while (reason == null) {
            if (n == request.maxNewTokens()) {
                reason = StopReason.MAX_NEW_TOKENS;
                break;
            }
            int token = sampler.next(logits, Arrays.copyOf(context, prompt.length + n), prompt.length);
            if (request.stopIds().contains(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            context[prompt.length + n++] = token;
            if (tokenizer != null) text = tokenizer.decode(Arrays.copyOfRange(context, prompt.length, prompt.length + n));
            int stop = firstStop(text, request.stopStrings(), emitted);
            if (stop >= 0) {
                text = text.substring(0, stop);
                reason = StopReason.STOP_STRING;
                break;
            }
            int safe = text.length() - heldBack(text, request.stopStrings());
            if (safe > emitted) {
                sink.accept(text.substring(emitted, safe));
                emitted = safe;
            }
            if (n == request.maxNewTokens()) {
                reason = StopReason.MAX_NEW_TOKENS;
            } else if (session.length() + 1 >= session.maxPositions()) {
                reason = StopReason.CONTEXT_FULL;
            } else {
                logits = session.step(token);
            }
        }
        if (text.length() > emitted) sink.accept(text.substring(emitted));
        long t2 = System.nanoTime();
        return new GenerationResult(prompt, Arrays.copyOfRange(context, prompt.length, prompt.length + n), text, reason,
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, session.cacheBytes());
    }

    /** Where the first stop string starts in {@code text}, looking only where one could not have been seen before; −1 if none. */
    static int firstStop(String text, List<String> stops, int emitted) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, Math.max(0, emitted - s.length() + 1));
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Characters at the end of {@code text} that may still change or turn out to begin a stop string. */
    static int heldBack(String text, List<String> stops) {
        int held = 0;
        while (held < text.length() && text.charAt(text.length() - 1 - held) == '\uFFFD') held++;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > held; k--) {
                if (text.endsWith(s.substring(0, k))) {
                    held = k;
                    break;
                }
            }
        }
        return held;
    }
}
