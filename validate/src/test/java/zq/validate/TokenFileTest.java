package zq.validate;

import org.junit.jupiter.api.Test;
import zq.formats.CheckpointException;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenFileTest {
    @TempDir Path tmp;

    private Path file(String text) throws Exception {
        Path p = tmp.resolve("tokens.txt");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void readsIdsSeparatedByAnyWhitespace() throws Exception {
        assertArrayEquals(new int[]{5, 0, 17, 3}, TokenFile.read(file("  5 0\n17\t3\n")));
    }

    @Test
    void refusesWhatIsNotAListOfIds() throws Exception {
        Path p = file("1 2 x3 4");
        assertEquals(p + " line 1: 'x3' is not a token id",
                assertThrows(CheckpointException.class, () -> TokenFile.read(p)).getMessage());
        Path n = file("1 -2");
        assertEquals(n + " line 1: token id -2 is negative",
                assertThrows(CheckpointException.class, () -> TokenFile.read(n)).getMessage());
        Path one = file("7\n");
        assertEquals(one + ": has 1 token id; perplexity needs at least 2",
                assertThrows(CheckpointException.class, () -> TokenFile.read(one)).getMessage());
        Path missing = tmp.resolve("missing.txt");
        assertEquals(missing + ": no such file", assertThrows(CheckpointException.class, () -> TokenFile.read(missing)).getMessage());
    }

    @Test
    void windowsAreNonOverlappingAndKeepAFinalWindowOfTwo() {
        List<int[]> w = TokenWindows.split(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 4, 0);
        assertEquals(3, w.size());
        assertArrayEquals(new int[]{8, 9}, w.get(2));
        assertEquals(3 + 3 + 1, TokenWindows.predicted(w));
        assertEquals(2, TokenWindows.split(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8}, 4, 0).size());
        assertEquals(List.of(2, 1), TokenWindows.passes(w, 9).stream().map(List::size).toList());
    }
}
