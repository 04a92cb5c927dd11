package zq.formats.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-only byte-level BPE training (count adjacent pairs inside regex pieces, merge the most
 * frequent, repeat), so round-trip and oracle tests run on vocabularies where merges really happen.
 */
public final class BpeTraining {
    /** Tokens in rank order (the first 256 are the single bytes) and the merges as (left rank, right rank, new rank). */
    public record Vocabulary(List<byte[]> tokens, List<int[]> merges) {
        String tiktokenFileText() {
            StringBuilder sb = new StringBuilder();
            for (int r = 0; r < tokens.size(); r++) {
                sb.append(Base64.getEncoder().encodeToString(tokens.get(r))).append(' ').append(r).append('\n');
            }
            return sb.toString();
        }

        public Path writeTiktoken(Path file) throws IOException {
            Files.createDirectories(file.getParent());
            Files.writeString(file, tiktokenFileText(), StandardCharsets.US_ASCII);
            return file;
        }
    }

    private BpeTraining() {}

    public static Vocabulary train(String corpus, Pattern split, int numMerges) {
        Map<String, Integer> wordCounts = new HashMap<>();
        Matcher m = split.matcher(corpus);
        while (m.find()) wordCounts.merge(m.group(), 1, Integer::sum);
        List<int[]> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] w = new int[b.length];
            for (int i = 0; i < b.length; i++) w[i] = b[i] & 0xFF;
            words.add(w);
            counts.add(e.getValue());
        }
        List<byte[]> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(new byte[] {(byte) b});
        Map<String, Integer> rankOfBytes = new HashMap<>();
        for (int b = 0; b < 256; b++) rankOfBytes.put(key(tokens.get(b)), b);
        List<int[]> merges = new ArrayList<>();
        for (int step = 0; step < numMerges; step++) {
            Map<Long, Integer> pairCounts = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] word = words.get(w);
                for (int i = 0; i + 1 < word.length; i++) {
                    pairCounts.merge(((long) word[i] << 32) | word[i + 1], counts.get(w), Integer::sum);
                }
            }
            long best = -1;
            int bestCount = 1;   // a pair must occur at least twice to be worth a token
            for (Map.Entry<Long, Integer> e : pairCounts.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best >= 0 && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best < 0) break;
            int left = (int) (best >>> 32);
            int right = (int) best;
            byte[] joined = concat(tokens.get(left), tokens.get(right));
            Integer existing = rankOfBytes.get(key(joined));
            int newRank;
            if (existing == null) {
                newRank = tokens.size();
                tokens.add(joined);
                rankOfBytes.put(key(joined), newRank);
            } else {
                newRank = existing;
            }
            merges.add(new int[] {left, right, newRank});
            for (int w = 0; w < words.size(); w++) words.set(w, applyMerge(words.get(w), left, right, newRank));
        }
        return new Vocabulary(tokens, merges);
    }

    private static int[] applyMerge(int[] word, int left, int right, int merged) {
        int[] out = new int[word.length];
        int n = 0;
        for (int i = 0; i < word.length; i++) {
            if (i + 1 < word.length && word[i] == left && word[i + 1] == right) {
                out[n++] = merged;
                i++;
            } else {
                out[n++] = word[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static String key(byte[] b) { return new String(b, StandardCharsets.ISO_8859_1); }
}
