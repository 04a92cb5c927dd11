package zq.formats.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

import zq.formats.CheckpointException;

/**
 * The mergeable ranks of a tiktoken vocabulary file: one {@code base64(token bytes) rank} per line,
 * as read by tiktoken's {@code load_tiktoken_bpe} and 360Zhinao's {@code _load_tiktoken_bpe}.
 * A token's rank is both its id and its merge priority (lower merges first).
 */
public final class TiktokenRanks {
    private final String source;
    private final ByteTokenTable table;

    private TiktokenRanks(String source, ByteTokenTable table) {
        this.source = source;
        this.table = table;
    }

    /** Reads a {@code .tiktoken} file, checking that ranks and token bytes are unique and that all 256 bytes have a rank. */
    public static TiktokenRanks read(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CheckpointException("cannot read tiktoken vocabulary " + file + ": " + e.getMessage(), e);
        }
        String text = new String(content, StandardCharsets.ISO_8859_1);
        byte[][] byRank = new byte[1024][];
        int[] lineOfRank = new int[1024];
        int count = 0;
        int lineNo = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) end = text.length();
            lineNo++;
            String line = text.substring(start, end).strip();
            start = end + 1;
            if (line.isEmpty()) continue;
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw bad(file, lineNo, "expected 'base64 rank', found " + fields.length + " fields");
            }
            byte[] token;
            try {
                token = Base64.getDecoder().decode(fields[0]);
            } catch (IllegalArgumentException e) {
                throw bad(file, lineNo, "invalid base64 '" + fields[0] + "'");
            }
            int rank;
            try {
                rank = Integer.parseInt(fields[1]);
            } catch (NumberFormatException e) {
                throw bad(file, lineNo, "rank '" + fields[1] + "' is not an integer");
            }
            if (rank < 0) throw bad(file, lineNo, "negative rank " + rank);
            if (rank > Tokenizer.MAX_ID) throw bad(file, lineNo, "rank " + rank + " is above " + Tokenizer.MAX_ID + ", more tokens than any vocabulary has");
            if (token.length == 0) throw bad(file, lineNo, "empty token");
            if (rank >= byRank.length) {
                int n = Math.max(rank + 1, byRank.length * 2);
                byRank = Arrays.copyOf(byRank, n);
                lineOfRank = Arrays.copyOf(lineOfRank, n);
            }
            if (byRank[rank] != null) throw bad(file, lineNo, "rank " + rank + " also appears on line " + lineOfRank[rank]);
            byRank[rank] = token;
            lineOfRank[rank] = lineNo;
            count++;
        }
        if (count == 0) throw new CheckpointException("tiktoken vocabulary " + file + " has no ranks");
        int maxRank = byRank.length - 1;
        while (byRank[maxRank] == null) maxRank--;
        byRank = Arrays.copyOf(byRank, maxRank + 1);

        ByteTokenTable table = new ByteTokenTable(maxRank + 1, count);
        for (int r = 0; r <= maxRank; r++) {
            if (byRank[r] == null) continue;
            int earlier = table.add(r, byRank[r]);
            if (earlier >= 0) {
                throw bad(file, lineOfRank[r], "token bytes of rank " + r + " repeat those of rank " + earlier
                        + " (line " + lineOfRank[earlier] + ")");
            }
        }
        TiktokenRanks ranks = new TiktokenRanks(file.toString(), table);
        for (int b = 0; b < 256; b++) {
            if (ranks.rankOf(new byte[] {(byte) b}, 0, 1) < 0) {
                throw new CheckpointException("tiktoken vocabulary " + file + " has no rank for the single byte 0x"
                        + String.format("%02X", b) + "; byte-level BPE needs all 256");
            }
        }
        return ranks;
    }

    private static CheckpointException bad(Path file, int lineNo, String what) {
        return new CheckpointException("tiktoken vocabulary " + file + " line " + lineNo + ": " + what);
    }

    /** The file the ranks came from. */
    public String source() { return source; }

    /** Number of ranks in the file (tiktoken's {@code len(mergeable_ranks)}). */
    public int count() { return table.size(); }

    /** One more than the largest rank; equals {@link #count()} when the ranks have no gaps. */
    public int rankLimit() { return table.idLimit(); }

    /** Whether {@code rank} names a token (ranks may have gaps). */
    public boolean contains(int rank) { return table.contains(rank); }

    /** Copy of the token bytes of {@code rank}. */
    public byte[] bytes(int rank) {
        if (!contains(rank)) throw new IllegalArgumentException("rank " + rank + " is not in " + source);
        return table.bytes(rank).clone();
    }

    /** Rank of the token whose bytes are {@code bytes[from..to)}, or -1. */
    public int rankOf(byte[] bytes, int from, int to) { return table.idOf(bytes, from, to); }

    ByteTokenTable table() { return table; }
}
