package zq.formats.text;

import java.util.List;

import zq.formats.tokenizer.IntList;
import zq.formats.tokenizer.Tokenizer;

/**
 * ChatML as 360Zhinao's {@code finetune.py} builds training ids, piece by piece, so a message's
 * content never merges with the role or the newlines around it:
 * {@code [<|im_start|>] + enc(role) + enc("\n") + enc(content) + [<|im_end|>] + enc("\n")} per message,
 * with a system message first ({@link #DEFAULT_SYSTEM} when the conversation does not start with one).
 * The same layout serves Qwen2 chat models, whose tokenizers have the same two special tokens.
 */
public final class ChatTemplate {
    /** finetune.py's default system prompt (the v2 tokenizer_config templates agree; v1 chat omits the period). */
    public static final String DEFAULT_SYSTEM = "You are a helpful assistant.";
    /**
     * The same layout as a Jinja chat_template, as 360Zhinao2's tokenizer_config.json declares it;
     * written into a converted folder that has no template of its own.
     */
    public static final String JINJA = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";

    private final Tokenizer tokenizer;
    private final String defaultSystem;
    private final int imStart;
    private final int imEnd;
    private final int[] newline;

    public ChatTemplate(Tokenizer tokenizer) { this(tokenizer, DEFAULT_SYSTEM); }

    public ChatTemplate(Tokenizer tokenizer, String defaultSystem) {
        this.tokenizer = tokenizer;
        this.defaultSystem = defaultSystem;
        this.imStart = tokenizer.specialId(IM_START).orElseThrow(() -> missing(tokenizer, IM_START));
        this.imEnd = tokenizer.specialId(IM_END).orElseThrow(() -> missing(tokenizer, IM_END));
        this.newline = tokenizer.encode("\n");
    }

    private static IllegalArgumentException missing(Tokenizer tokenizer, String token) {
        return new IllegalArgumentException("the tokenizer (" + tokenizer.description() + ") has no " + token
                + " token, so it cannot encode ChatML conversations");
    }

    /** Ids of a whole conversation, as finetune.py's {@code preprocessing} builds {@code input_ids}. */
    public int[] encode(List<ChatMessage> conversation) {
        IntList out = new IntList();
        encodeInto(conversation, out);
        return out.toArray();
    }

    /** Ids of the conversation followed by the opening of an assistant turn, ready for generation. */
    public int[] encodeForGeneration(List<ChatMessage> conversation) {
        IntList out = new IntList();
        encodeInto(conversation, out);
        out.add(imStart);
        out.addAll(tokenizer.encode("assistant"));
        out.addAll(newline);
        return out.toArray();
    }

    /** Appends the ids of {@code conversation} to {@code out}. */
    public void encodeInto(List<ChatMessage> conversation, IntList out) {
        if (conversation.isEmpty()) throw new IllegalArgumentException("empty conversation");
        int from = 0;
        String system = defaultSystem;
        if (conversation.get(0).role().equals("system")) {
            system = conversation.get(0).content();
            from = 1;
        }
        message("system", system, out);
        for (int i = from; i < conversation.size(); i++) message(conversation.get(i).role(), conversation.get(i).content(), out);
    }

    private void message(String role, String content, IntList out) {
        out.add(imStart);
        out.addAll(tokenizer.encode(role));
        out.addAll(newline);
        out.addAll(tokenizer.encode(content));
        out.add(imEnd);
        out.addAll(newline);
    }

    /** The conversation as text, system message included, for display. */
    public String render(List<ChatMessage> conversation) {
        StringBuilder sb = new StringBuilder();
        int from = 0;
        String system = defaultSystem;
        if (!conversation.isEmpty() && conversation.get(0).role().equals("system")) {
            system = conversation.get(0).content();
            from = 1;
        }
        sb.append(IM_START).append("system\n").append(system).append(IM_END).append('\n');
        for (int i = from; i < conversation.size(); i++) {
            ChatMessage m = conversation.get(i);
            sb.append(IM_START).append(m.role()).append('\n').append(m.content()).append(IM_END).append('\n');
        }
        return sb.toString();
    }
}
