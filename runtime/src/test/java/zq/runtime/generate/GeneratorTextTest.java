package zq.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The streaming rules on text alone: what is held back, where a stop string cuts. */
class GeneratorTextTest {
    @Test
    void holdsBackPossibleStopPrefixesAndSplitCharacters() {
        List<String> stops = List.of("<|im_end|>", "\n\nUser:");
        assertEquals(0, Generator.heldBack("hello", stops));
        assertEquals(3, Generator.heldBack("hello<|i", stops));
        assertEquals(2, Generator.heldBack("hello\n\n", stops));
        assertEquals(1, Generator.heldBack("caf\uFFFD", stops));
        assertEquals(5, Generator.firstStop("hello<|im_end|>x", stops, 0));
        assertEquals(-1, Generator.firstStop("hello <|im_end", stops, 0));
        // a stop string is searched from where it could first have appeared given what was already emitted
        assertEquals(3, Generator.firstStop("ab\n\n\nUser: hi", stops, 4));
    }
}
