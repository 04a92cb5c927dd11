package zq.formats.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Merges rebuilt from tiktoken ranks: a vocabulary worked by hand, and the sample's, whose every token must be rebuilt. */
class TiktokenMergesTest {
    @TempDir Path tmp;

    private TiktokenRanks ranks(String... tokens) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 256; i++) b.append(Base64.getEncoder().encodeToString(new byte[] {(byte) i})).append(' ').append(i).append('\n');
        for (int i = 0; i < tokens.length; i++) {
            b.append(Base64.getEncoder().encodeToString(tokens[i].getBytes(StandardCharsets.UTF_8))).append(' ').append(256 + i).append('\n');
        }
        return TiktokenRanks.read(Files.writeString(tmp.resolve("v.tiktoken"), b));
    }

    /**
     * ab = 256, abc = 257, bc = 258, xyz = 259: "abc" below rank 257 merges a+b first and ends as ab + c (bc ranks
     * later, so bc is not used); "xyz" has no two-byte token, so BPE stops at three parts: unreachable.
     */
    @Test
    void handWorkedVocabulary() throws Exception {
        TiktokenMerges.Result r = TiktokenMerges.of(ranks("ab", "abc", "bc", "xyz"));
        assertEquals(List.of(new TiktokenMerges.Merge('a', 'b', 256), new TiktokenMerges.Merge(256, 'c', 257),
                new TiktokenMerges.Merge('b', 'c', 258)), r.merges());
        assertEquals(List.of(259), r.unreachable());
    }

    @Test
    void everySampleTokenIsTheConcatenationOfItsMergeAndRanksBelowIt() {
        Path vocab = Path.of("..", "samples", "zhinao-tiny", "vocab", "360.tiktoken");
        TiktokenRanks ranks = TiktokenRanks.read(vocab);
        TiktokenMerges.Result r = TiktokenMerges.of(ranks);
        assertEquals(List.of(), r.unreachable(), "every token of the sample is reachable by merges");
        assertEquals(ranks.count() - 256, r.merges().size());
        for (TiktokenMerges.Merge m : r.merges()) {
            assertTrue(m.left() < m.merged() && m.right() < m.merged(), m.toString());
            byte[] l = ranks.bytes(m.left()), rr = ranks.bytes(m.right());
            byte[] cat = Arrays.copyOf(l, l.length + rr.length);
            System.arraycopy(rr, 0, cat, l.length, rr.length);
            assertArrayEquals(ranks.bytes(m.merged()), cat, m.toString());
        }
    }
}
