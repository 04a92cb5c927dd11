package zq.runtime.generate;

import org.junit.jupiter.api.Test;
import zq.formats.Checkpoint;
import zq.formats.text.ChatMessage;
import zq.formats.text.ChatTemplate;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Multi-turn chat on the sample 360Zhinao model: the ids the model sees are ChatTemplate's, turn after turn. */
class ChatTest {
    static final Path SAMPLE = Path.of("..", "samples", "zhinao-tiny");

    @Test
    void eachTurnFeedsExactlyTheTemplateIdsAndReusingTheCacheChangesNothing() {
        Tokenizer tok = TokenizerLoader.load(SAMPLE);
        ChatTemplate template = new ChatTemplate(tok);
        Chat.Settings settings = new Chat.Settings(6, SamplingOptions.greedy(), StopTokens.defaults(tok), List.of());
        try (Checkpoint ck = Checkpoint.open(SAMPLE); Session session = new Session(ck)) {
            Chat chat = new Chat(new Generator(session, tok), template, null, settings);
            GenerationResult first = chat.say("Hello! Who are you?", s -> { });
            GenerationResult second = chat.say("Tell me about Beijing.", s -> { });
            List<ChatMessage> conversation = chat.conversation();
            assertEquals(4, conversation.size());
            assertEquals(first.text(), conversation.get(1).content());

            int[] expected = template.encodeForGeneration(conversation.subList(0, 3));
            assertArrayEquals(expected, second.prompt(), "the second turn's prompt is the template's ids of the conversation");
            int[] cached = session.ids();
            assertArrayEquals(expected, Arrays.copyOf(cached, expected.length), "the cache holds the template's ids");
            int[] fedReply = Arrays.copyOfRange(cached, expected.length, cached.length);
            assertArrayEquals(Arrays.copyOf(second.generated(), fedReply.length), fedReply, "then the reply as generated");
            assertTrue(fedReply.length >= second.generated().length - 1);

            // a fresh session on the same ids (nothing reused from turn one) replies with the same tokens
            try (Session fresh = new Session(ck)) {
                GenerationResult again = new Generator(fresh, tok).generate(new GenerationRequest(expected, 6, SamplingOptions.greedy(),
                        StopTokens.defaults(tok), List.of()), s -> { });
                assertArrayEquals(again.generated(), second.generated());
            }
            assertEquals(tok.decode(second.generated()), second.text());

            chat.reset();
            assertTrue(chat.conversation().isEmpty());
        }
        assertFalse(StopTokens.defaults(tok).isEmpty());
        assertTrue(StopTokens.defaults(tok).containsAll(List.of(tok.specialId("<eod>").getAsInt(), tok.specialId("<|im_end|>").getAsInt(),
                tok.specialId("<|im_start|>").getAsInt())));
    }
}
