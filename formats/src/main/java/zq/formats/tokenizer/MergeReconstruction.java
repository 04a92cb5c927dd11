package zq.formats.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The merge list of a byte-level BPE that reproduces a tiktoken vocabulary's rank-based merging,
 * for writers of tokenizer.json (Hugging Face) and GGUF tokenizer metadata, which store a BPE as a
 * vocabulary plus an ordered merge list rather than as ranks.
 *
 * <p>For every token of two or more bytes, in rank order, tiktoken's own merging is run over its
 * bytes with only the lower ranks; if that leaves exactly two tokens, the pair becomes the merge
 * with priority = the token's rank. A token that it leaves in three or more parts is
 * {@linkplain #unreachable() unreachable by merges}: tiktoken produces it only when a whole
 * pre-token is that token, which a BPE model reproduces with {@code ignore_merges} (the whole
 * pre-token is looked up first). Why merge priority then follows tiktoken's ranks, and when it may
 * not ({@link #rankInversions()}), is in {@code docs/tokenizers.md}.
 */
public final class MergeReconstruction {
    /** One merge: tokens {@code left} and {@code right} become {@code merged}, whose rank is also the priority. */
    public record Merge(int left, int right, int merged) {}

    private final TiktokenRanks ranks;
    private final List<Merge> merges;
    private final List<Integer> unreachable;
    private final List<Integer> rankInversions;

    private MergeReconstruction(TiktokenRanks ranks, List<Merge> merges, List<Integer> unreachable,
                                List<Integer> rankInversions) {
        this.ranks = ranks;
        this.merges = merges;
        this.unreachable = unreachable;
        this.rankInversions = rankInversions;
    }

    /** Reconstructs the merges of {@code ranks} (O(total token bytes x token length) lookups). */
    public static MergeReconstruction of(TiktokenRanks ranks) {
        List<Merge> merges = new ArrayList<>();
        List<Integer> unreachable = new ArrayList<>();
        List<Integer> inversions = new ArrayList<>();
        for (int r = 0; r < ranks.rankLimit(); r++) {
            if (!ranks.contains(r)) continue;
            byte[] t = ranks.table().bytes(r);
            if (t.length < 2) continue;
            int[] cuts = mergeBelow(ranks, t, r);
            if (cuts.length == 3) {
                merges.add(new Merge(ranks.rankOf(t, 0, cuts[1]), ranks.rankOf(t, cuts[1], t.length), r));
            } else {
                unreachable.add(r);
            }
            if (outranksAPart(ranks, t, r)) inversions.add(r);
        }
        return new MergeReconstruction(ranks, Collections.unmodifiableList(merges),
                Collections.unmodifiableList(unreachable), Collections.unmodifiableList(inversions));
    }

    /**
     * tiktoken's {@code byte_pair_merge} over {@code token} using only ranks below {@code limit}:
     * the boundaries of the resulting parts, 0 first and {@code token.length} last. As tiktoken does,
     * each pair's rank is kept and only the two pairs beside a merge are looked up again.
     */
    static int[] mergeBelow(TiktokenRanks ranks, byte[] token, int limit) {
        int n = token.length + 1;             // boundaries
        int[] cuts = new int[n];
        int[] pairRank = new int[n];          // pairRank[i]: rank of token[cuts[i]..cuts[i+2]), or limit
        for (int i = 0; i < n; i++) cuts[i] = i;
        for (int i = 0; i + 2 < n; i++) pairRank[i] = rankBelow(ranks, token, cuts[i], cuts[i + 2], limit);
        while (n > 2) {
            int best = -1;
            int bestRank = limit;
            for (int i = 0; i + 2 < n; i++) {
                if (pairRank[i] < bestRank) {
                    bestRank = pairRank[i];
                    best = i;
                }
            }
            if (best < 0) break;
            System.arraycopy(cuts, best + 2, cuts, best + 1, n - best - 2);
            System.arraycopy(pairRank, best + 2, pairRank, best + 1, n - best - 2);
            n--;
            if (best + 2 < n) pairRank[best] = rankBelow(ranks, token, cuts[best], cuts[best + 2], limit);
            if (best > 0) pairRank[best - 1] = rankBelow(ranks, token, cuts[best - 1], cuts[best + 1], limit);
        }
        return java.util.Arrays.copyOf(cuts, n);
    }

    private static int rankBelow(TiktokenRanks ranks, byte[] token, int from, int to, int limit) {
        int rank = ranks.rankOf(token, from, to);
        return rank >= 0 && rank < limit ? rank : limit;
    }

    /** Whether some split of {@code token} into two tokens has a multi-byte part of a higher rank than {@code rank}. */
    private static boolean outranksAPart(TiktokenRanks ranks, byte[] token, int rank) {
        for (int k = 1; k < token.length; k++) {
            int left = ranks.rankOf(token, 0, k);
            if (left < 0) continue;
            int right = ranks.rankOf(token, k, token.length);
            if (right < 0) continue;
            if ((k >= 2 && left > rank) || (token.length - k >= 2 && right > rank)) return true;
        }
        return false;
    }

    public TiktokenRanks ranks() { return ranks; }

    /** The merges in priority order (ascending rank of the merged token). */
    public List<Merge> merges() { return merges; }

    /** Ranks of multi-byte tokens that no merge produces (reachable only as a whole pre-token). */
    public List<Integer> unreachable() { return unreachable; }

    /**
     * Ranks of tokens that can be split into two tokens one of which (of two or more bytes) has a
     * higher rank. With none, tiktoken's merge order never goes back to a lower rank and the merges
     * reproduce it on every input; with some, an input may exist whose ids differ
     * ({@code docs/tokenizers.md}).
     */
    public List<Integer> rankInversions() { return rankInversions; }

    /** Token {@code rank} in GPT-2's byte-level alphabet, the form tokenizer.json and GGUF store. */
    public String byteLevelToken(int rank) { return ByteLevelAlphabet.encode(ranks.table().bytes(rank)); }

    /** Merge {@code m} as tokenizer.json's and GGUF's {@code "left right"} string (byte-level, so neither part has a space). */
    public String mergeString(Merge m) { return byteLevelToken(m.left()) + " " + byteLevelToken(m.right()); }
}
