package zq.formats.tokenizer;

import java.util.Arrays;

/**
 * Token ids and their bytes, with lookup of a byte slice's id in an open-addressing table
 * (no allocation per lookup, which matters at millions of pieces per second).
 */
final class ByteTokenTable {
    private final byte[][] bytesById;
    private int[] table;
    private int size;

    ByteTokenTable(int idLimit, int expectedTokens) {
        bytesById = new byte[idLimit][];
        table = new int[Integer.highestOneBit(Math.max(16, expectedTokens * 2 - 1)) << 1];
        Arrays.fill(table, -1);
    }

    /**
     * Adds token {@code id} with {@code bytes}; returns -1, or the id that already has these bytes
     * (the table then keeps the earlier id).
     */
    int add(int id, byte[] bytes) {
        if ((size + 1) * 2 > table.length) grow();
        int slot = slot(table, bytes, 0, bytes.length);
        if (table[slot] >= 0) return table[slot];
        table[slot] = id;
        bytesById[id] = bytes;
        size++;
        return -1;
    }

    int size() { return size; }

    /** One more than the largest id this table can hold. */
    int idLimit() { return bytesById.length; }

    boolean contains(int id) { return id >= 0 && id < bytesById.length && bytesById[id] != null; }

    /** Shared bytes of a token known to exist: callers must not modify them. */
    byte[] bytes(int id) { return bytesById[id]; }

    /** Id of the token whose bytes are {@code bytes[from..to)}, or -1. */
    int idOf(byte[] bytes, int from, int to) { return table[slot(table, bytes, from, to)]; }

    private int slot(int[] t, byte[] bytes, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) h = (h ^ (bytes[i] & 0xFF)) * 0x01000193;
        h ^= h >>> 15;
        int mask = t.length - 1;
        int slot = h & mask;
        while (true) {
            int id = t[slot];
            if (id < 0) return slot;
            byte[] b = bytesById[id];
            if (Arrays.equals(b, 0, b.length, bytes, from, to)) return slot;
            slot = (slot + 1) & mask;
        }
    }

    private void grow() {
        int[] old = table;
        table = new int[old.length * 2];
        Arrays.fill(table, -1);
        for (int id : old) {
            if (id >= 0) table[slot(table, bytesById[id], 0, bytesById[id].length)] = id;
        }
    }
}
