package zq.formats.tokenizer;

import java.util.Arrays;

/**
 * The byte-pair merge loop shared by tiktoken and Hugging Face BPE: repeatedly merge the adjacent
 * pair with the lowest priority, the leftmost one on ties, until no adjacent pair has a merge.
 * Uses a heap of (priority, position) with lazy invalidation, as Hugging Face's {@code Word::merge_all}
 * does, so a long piece costs O(n log n) rather than tiktoken's O(n^2); the order of merges, and so
 * the result, is the same as tiktoken's {@code byte_pair_merge} scan.
 */
final class BpeMerger {
    private BpeMerger() {}

    /**
     * Merges {@code symbols[0..n)} in place and appends the resulting ids to {@code out}.
     */
    static void merge(int[] symbols, int n, PairTable merges, IntList out) {
        if (n == 1) {
            out.add(symbols[0]);
            return;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        long[] heap = new long[Math.max(4, 2 * n)];
        int heapSize = 0;
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(symbols[i], symbols[i + 1]);
            if (m != PairTable.ABSENT) {
                if (heapSize == heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
                heapSize = push(heap, heapSize, entry(m, i));
            }
        }
        while (heapSize > 0) {
            long top = heap[0];
            heapSize = pop(heap, heapSize);
            int pos = (int) top;
            int priority = (int) (top >>> 32);
            if (symbols[pos] < 0) continue;
            int right = next[pos];
            if (right >= n) continue;
            long m = merges.get(symbols[pos], symbols[right]);
            if (m == PairTable.ABSENT || PairTable.priority(m) != priority) continue; // stale entry
            symbols[pos] = PairTable.merged(m);
            symbols[right] = -1;
            int after = next[right];
            next[pos] = after;
            if (after < n) prev[after] = pos;
            if (heapSize + 2 > heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
            int before = prev[pos];
            if (before >= 0) {
                long left = merges.get(symbols[before], symbols[pos]);
                if (left != PairTable.ABSENT) heapSize = push(heap, heapSize, entry(left, before));
            }
            if (after < n) {
                long rightPair = merges.get(symbols[pos], symbols[after]);
                if (rightPair != PairTable.ABSENT) heapSize = push(heap, heapSize, entry(rightPair, pos));
            }
        }
        for (int i = 0; i < n; i = next[i]) out.add(symbols[i]);
    }

    private static long entry(long merge, int pos) {
        return ((long) PairTable.priority(merge) << 32) | pos;
    }

    private static int push(long[] heap, int size, long value) {
        int i = size;
        heap[i] = value;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= heap[i]) break;
            long t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
        return size + 1;
    }

    private static int pop(long[] heap, int size) {
        int last = size - 1;
        heap[0] = heap[last];
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= last) break;
            int r = l + 1;
            int c = r < last && heap[r] < heap[l] ? r : l;
            if (heap[i] <= heap[c]) break;
            long t = heap[c];
            heap[c] = heap[i];
            heap[i] = t;
            i = c;
        }
        return last;
    }
}
