package zq.formats.tokenizer;

/**
 * The merges of a byte-pair encoding: (left id, right id) to (priority, merged id), in an
 * open-addressing table of primitive longs (a vocabulary of 150k tokens has about half a million pairs).
 * A lower priority merges first.
 */
final class PairTable {
    static final long ABSENT = -1L;
    private static final long EMPTY_KEY = -1L;

    private long[] keys;
    private long[] values;
    private int size;

    PairTable(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedPairs * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY_KEY);
    }

    int size() { return size; }

    /** Sets the merge of (left, right); a later put of the same pair replaces the earlier one. */
    void put(int left, int right, int priority, int merged) {
        if (left < 0 || right < 0 || priority < 0 || merged < 0) {
            throw new IllegalArgumentException("negative id or priority in merge " + left + " " + right);
        }
        if ((size + 1) * 2 > keys.length) grow();
        long key = key(left, right);
        int slot = find(keys, key);
        if (keys[slot] == EMPTY_KEY) {
            keys[slot] = key;
            size++;
        }
        values[slot] = ((long) priority << 32) | merged;
    }

    /** {@code priority << 32 | merged} for the pair, or {@link #ABSENT}. */
    long get(int left, int right) {
        int slot = find(keys, key(left, right));
        return keys[slot] == EMPTY_KEY ? ABSENT : values[slot];
    }

    static int priority(long entry) { return (int) (entry >>> 32); }

    static int merged(long entry) { return (int) entry; }

    private static long key(int left, int right) { return ((long) left << 32) | (right & 0xFFFFFFFFL); }

    private static int find(long[] keys, long key) {
        int mask = keys.length - 1;
        long h = key * 0x9E3779B97F4A7C15L;
        int slot = (int) (h ^ (h >>> 29)) & mask;
        while (keys[slot] != EMPTY_KEY && keys[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        java.util.Arrays.fill(keys, EMPTY_KEY);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY_KEY) {
                int slot = find(keys, oldKeys[i]);
                keys[slot] = oldKeys[i];
                values[slot] = oldValues[i];
            }
        }
    }
}
