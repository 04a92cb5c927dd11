package zq.formats.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The BPE merges a tiktoken vocabulary implies, for formats that list merges (tokenizer.json, GGUF).
 * tiktoken has no merge list: a pair merges when its concatenation has a rank, lowest rank first.
 * Each multi-byte token is rebuilt by running that BPE on its own bytes with only lower ranks allowed;
 * when the run ends in exactly two parts they are the token's merge, as in llama.cpp's
 * convert_hf_to_gguf.py ({@code QwenModel.bpe}). Tokens the run cannot reach in two parts have no
 * merge: a merges-based tokenizer never produces them.
 */
public final class TiktokenMerges {
    /** Token {@code merged} is made from tokens {@code left} and {@code right}. */
    public record Merge(int left, int right, int merged) {}

    /** The merges, in rank order of the merged token, and the multi-byte ranks no merge builds. */
    public record Result(List<Merge> merges, List<Integer> unreachable) {}

    private TiktokenMerges() {}

    public static Result of(TiktokenRanks ranks) {
        List<Merge> merges = new ArrayList<>();
        List<Integer> unreachable = new ArrayList<>();
        for (int rank = 0; rank < ranks.rankLimit(); rank++) {
            if (!ranks.contains(rank)) continue;
            byte[] token = ranks.bytes(rank);
            if (token.length < 2) continue;
            int[] cut = split(ranks, token, rank);
            if (cut == null) {
                unreachable.add(rank);
            } else {
                merges.add(new Merge(ranks.rankOf(token, 0, cut[0]), ranks.rankOf(token, cut[0], token.length), rank));
            }
        }
        return new Result(List.copyOf(merges), List.copyOf(unreachable));
    }

    /** The boundary of the last two parts BPE below {@code maxRank} leaves of {@code token}, or null unless exactly two remain. */
    private static int[] split(TiktokenRanks ranks, byte[] token, int maxRank) {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i <= token.length; i++) starts.add(i);
        while (starts.size() > 3) {
            int best = -1, bestRank = maxRank;
            for (int i = 0; i + 2 < starts.size(); i++) {
                int r = ranks.rankOf(token, starts.get(i), starts.get(i + 2));
                if (r >= 0 && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            starts.remove(best + 1);
        }
        return starts.size() == 3 ? new int[] {starts.get(1)} : null;
    }
}
