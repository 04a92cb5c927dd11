package zq.formats.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-only reference: tiktoken's encoding written the plain way (whole-piece lookup, then scan all
 * adjacent pairs for the lowest-ranked concatenation, leftmost on ties, merge, repeat), to check the
 * heap-based merger against.
 */
final class NaiveTiktoken {
    private final Map<String, Integer> rankOf = new HashMap<>();
    private final Pattern split;

    NaiveTiktoken(List<byte[]> tokensByRank, Pattern split) {
        for (int r = 0; r < tokensByRank.size(); r++) rankOf.put(key(tokensByRank.get(r)), r);
        this.split = split;
    }

    List<Integer> encodeOrdinary(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = split.matcher(text);
        while (m.find()) {
            byte[] piece = m.group().getBytes(StandardCharsets.UTF_8);
            Integer whole = rankOf.get(key(piece));
            if (whole != null) {
                out.add(whole);
                continue;
            }
            List<String> parts = new ArrayList<>();
            for (byte b : piece) parts.add(key(new byte[] {b}));
            while (true) {
                int best = -1;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer r = rankOf.get(parts.get(i) + parts.get(i + 1));
                    if (r != null && r < bestRank) {
                        bestRank = r;
                        best = i;
                    }
                }
                if (best < 0) break;
                parts.set(best, parts.get(best) + parts.get(best + 1));
                parts.remove(best + 1);
            }
            for (String p : parts) out.add(rankOf.get(p));
        }
        return out;
    }

    private static String key(byte[] b) { return new String(b, StandardCharsets.ISO_8859_1); }
}
