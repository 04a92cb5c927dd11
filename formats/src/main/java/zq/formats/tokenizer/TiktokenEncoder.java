package zq.formats.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * tiktoken's ordinary encoding (text without special tokens): split the text with the pre-tokenizer
 * regex; a piece whose bytes have a rank is that one token, otherwise its bytes are merged pairwise,
 * always the adjacent pair whose concatenation has the lowest rank (leftmost on ties).
 *
 * <p>The merge table lists every way to split each token into two tokens, so "the concatenation
 * has a rank" becomes a pair lookup and the shared {@link BpeMerger} applies.
 */
public final class TiktokenEncoder {
    private final TiktokenRanks ranks;
    private final Pattern splitPattern;
    private final PairTable merges;
    private final int[] byteRanks = new int[256];

    public TiktokenEncoder(TiktokenRanks ranks, Pattern splitPattern) {
        this.ranks = ranks;
        this.splitPattern = splitPattern;
        for (int b = 0; b < 256; b++) byteRanks[b] = ranks.rankOf(new byte[] {(byte) b}, 0, 1);
        this.merges = new PairTable(ranks.count() * 3);
        for (int r = 0; r < ranks.rankLimit(); r++) {
            if (!ranks.contains(r)) continue;
            byte[] t = ranks.bytesUnsafe(r);
            for (int k = 1; k < t.length; k++) {
                int left = ranks.rankOf(t, 0, k);
                if (left < 0) continue;
                int right = ranks.rankOf(t, k, t.length);
                if (right >= 0) merges.put(left, right, r, r);
            }
        }
    }

    public TiktokenRanks ranks() { return ranks; }

    /** Appends the ranks of {@code text} to {@code out}. */
    public void encode(String text, IntList out) {
        Matcher m = splitPattern.matcher(text);
        int[] symbols = new int[64];
        while (m.find()) {
            byte[] piece = text.substring(m.start(), m.end()).getBytes(StandardCharsets.UTF_8);
            if (piece.length == 0) continue;
            int whole = ranks.rankOf(piece, 0, piece.length);
            if (whole >= 0) {
                out.add(whole);
                continue;
            }
            if (symbols.length < piece.length) symbols = new int[Math.max(piece.length, symbols.length * 2)];
            for (int i = 0; i < piece.length; i++) symbols[i] = byteRanks[piece[i] & 0xFF];
            BpeMerger.merge(symbols, piece.length, merges, out);
        }
    }
}
