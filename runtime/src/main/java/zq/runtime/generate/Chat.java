package zq.runtime.generate;

import zq.formats.text.ChatMessage;
import zq.formats.text.ChatTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A multi-turn ChatML conversation: each user message is appended, the whole conversation is encoded with
 * {@link ChatTemplate} and continued; the reply becomes an assistant message. The session keeps the cache of
 * the previous turns, so only the new tail of the ids is computed.
 */
public final class Chat {
    private final Generator generator;
    private final ChatTemplate template;
    private final String system;
    private final Settings settings;
    private final List<ChatMessage> conversation = new ArrayList<>();

    /** The per-reply part of a {@link GenerationRequest}. */
    public record Settings(int maxNewTokens, SamplingOptions sampling, java.util.Set<Integer> stopIds, List<String> stopStrings) {}

    /** @param system the system prompt; null for the template's default */
    public Chat(Generator generator, ChatTemplate template, String system, Settings settings) {
        this.generator = generator;
        this.template = template;
        this.system = system;
        this.settings = settings;
        reset();
    }

    /** The messages so far, system message first when one was given. */
    public List<ChatMessage> conversation() { return List.copyOf(conversation); }

    /** Starts over (the cache's memory is reused). */
    public void reset() {
        conversation.clear();
        if (system != null) conversation.add(ChatMessage.system(system));
    }

    /** Adds the user's message, generates the reply (streamed to {@code sink}) and adds it to the conversation. */
    public GenerationResult say(String user, Consumer<String> sink) {
        conversation.add(ChatMessage.user(user));
        int[] ids = template.encodeForGeneration(conversation);
        GenerationResult r = generator.generate(new GenerationRequest(ids, settings.maxNewTokens(), settings.sampling(),
                settings.stopIds(), settings.stopStrings()), sink);
        conversation.add(ChatMessage.assistant(r.text()));
        return r;
    }
}
