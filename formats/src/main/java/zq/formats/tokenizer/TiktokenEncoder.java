package zq.formats.tokenizer;

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
    private final PieceSplitter splitter;
    private final ByteBpe bpe;

    public TiktokenEncoder(TiktokenRanks ranks, String splitRegex) {
        this.ranks = ranks;
        this.splitter = PieceSplitter.of(splitRegex, Pattern.compile(splitRegex, Pattern.UNICODE_CHARACTER_CLASS));
        PairTable merges = new PairTable(ranks.count() * 3);
        for (int r = 0; r < ranks.rankLimit(); r++) {
            if (!ranks.contains(r)) continue;
            byte[] t = ranks.table().bytes(r);
            for (int k = 1; k < t.length; k++) {
                int left = ranks.rankOf(t, 0, k);
                if (left < 0) continue;
                int right = ranks.rankOf(t, k, t.length);
                if (right >= 0) merges.put(left, right, r, r);
            }
        }
        this.bpe = new ByteBpe(ranks.table(), merges, true);
    }

    public TiktokenRanks ranks() { return ranks; }

    /** Appends the ranks of {@code text} (free of lone surrogates) to {@code out}. */
    public void encode(String text, IntList out) {
        Utf8Buffer utf8 = new Utf8Buffer();
        splitter.matches(text, 0, text.length(), (start, end) -> {
            int length = utf8.encode(text, start, end);
            bpe.encode(utf8.bytes, length, out);
        });
    }
}
