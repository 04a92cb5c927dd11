package zq.formats.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds special-token texts in input: leftmost match first and, among matches at the same place,
 * the longest (Hugging Face's Aho-Corasick {@code LeftmostLongest}; for 360Zhinao's specials, none of
 * which is a prefix of another, also what tiktoken's special-token regex finds). Matches do not overlap.
 */
final class LiteralMatcher {
    /** A match of the literal with id {@code id} at {@code text[start..end)}. */
    record Match(int start, int end, int id) {}

    private record Literal(String text, int id) {}

    private final Map<Character, Literal[]> byFirstChar = new HashMap<>();
    private final boolean[] isFirstChar = new boolean[Character.MAX_VALUE + 1];

    LiteralMatcher(Map<String, Integer> literals) {
        Map<Character, List<Literal>> groups = new HashMap<>();
        for (Map.Entry<String, Integer> e : literals.entrySet()) {
            if (e.getKey().isEmpty()) throw new IllegalArgumentException("empty special token text (id " + e.getValue() + ")");
            groups.computeIfAbsent(e.getKey().charAt(0), c -> new ArrayList<>()).add(new Literal(e.getKey(), e.getValue()));
        }
        groups.forEach((c, list) -> {
            Literal[] sorted = list.toArray(new Literal[0]);
            Arrays.sort(sorted, Comparator.comparingInt((Literal l) -> l.text.length()).reversed());
            byFirstChar.put(c, sorted);
            isFirstChar[c] = true;
        });
    }

    /** All non-overlapping matches in {@code text}, left to right. */
    List<Match> findAll(String text) {
        List<Match> matches = new ArrayList<>();
        if (byFirstChar.isEmpty()) return matches;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char first = text.charAt(i);
            Literal[] candidates = isFirstChar[first] ? byFirstChar.get(first) : null;
            Literal found = null;
            if (candidates != null) {
                for (Literal l : candidates) {
                    if (text.startsWith(l.text, i)) {
                        found = l;
                        break;
                    }
                }
            }
            if (found == null) {
                i++;
            } else {
                matches.add(new Match(i, i + found.text.length(), found.id));
                i += found.text.length();
            }
        }
        return matches;
    }
}
