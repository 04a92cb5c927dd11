package zq.formats.tokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;
import zq.formats.SyntheticModel;
import zq.formats.gguf.GgufVocabulary;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF tokenizer metadata from a tokenizer.json built by hand: tokens, types, merges, pre-tokenizer, padding. */
class GgufVocabularyTest {
    @TempDir Path tmp;

    private ModelConfig config(int vocab) {
        ObjectNode c = SyntheticModel.config(Architecture.QWEN2, 32, 64, 1, 4, 2, vocab);
        c.put("eos_token_id", 262);
        return ModelConfig.of(c, tmp.resolve("config.json"));
    }

    @Test
    void byteLevelTokenizerJsonMapsOneToOne() throws Exception {
        TokenizerJsonBuilder b = new TokenizerJsonBuilder().mergeText("h", "e").mergeText("l", "l").mergeText("he", "ll");
        b.special("<|endoftext|>").special("<|im_start|>").special("<|im_end|>");
        b.write(tmp.resolve("tokenizer.json"));
        GgufVocabulary v = GgufVocabulary.of(tmp, config(266));
        assertEquals(266, v.tokens().size(), "padded to vocab_size");
        assertEquals("Ġ", v.tokens().get(' '), "bytes in GPT-2's alphabet");
        assertEquals(List.of("h e", "l l", "he ll"), v.merges());
        assertEquals("hell", v.tokens().get(258));
        assertEquals("<|im_end|>", v.tokens().get(261));
        assertEquals(GgufVocabulary.CONTROL, v.types().get(259));
        assertEquals(GgufVocabulary.NORMAL, v.types().get(258));
        assertEquals("[PAD262]", v.tokens().get(262));
        assertEquals(GgufVocabulary.UNUSED, v.types().get(265));
        assertEquals("qwen2", v.pre());
        assertFalse(v.addBos());
        assertEquals(262L, v.eos());
        assertEquals(zq.formats.text.ChatTemplate.JINJA, v.chatTemplate(), "ChatML tokens and no template of its own");
        assertTrue(v.chatTemplate().contains("<|im_start|>"));
    }

    @Test
    void aForeignRegexIsRefusedAndALargerTokenizerToo() throws Exception {
        new TokenizerJsonBuilder().set("pre_tokenizer", TokenizerJsonBuilder.sequence(
                TokenizerJsonBuilder.split("\\w+|\\s+", "Isolated", false), TokenizerJsonBuilder.byteLevel(false, false)))
                .write(tmp.resolve("tokenizer.json"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufVocabulary.of(tmp, config(300)));
        assertTrue(e.getMessage().contains("neither Qwen2's nor Llama-3's"), e.getMessage());
        new TokenizerJsonBuilder().write(tmp.resolve("tokenizer.json"));
        CheckpointException small = assertThrows(CheckpointException.class, () -> GgufVocabulary.of(tmp, config(100)));
        assertTrue(small.getMessage().contains("vocab_size is 100"), small.getMessage());
    }
}
