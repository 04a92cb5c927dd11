package zq.formats.tokenizer;

import java.util.Arrays;

/** A growable list of primitive ints, for token streams of millions of ids. */
public final class IntList {
    private int[] data;
    private int size;

    public IntList() { this(16); }

    public IntList(int capacity) { data = new int[Math.max(1, capacity)]; }

    public void add(int value) {
        if (size == data.length) data = Arrays.copyOf(data, data.length * 2);
        data[size++] = value;
    }

    public void addAll(int[] values) {
        if (size + values.length > data.length) data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
        System.arraycopy(values, 0, data, size, values.length);
        size += values.length;
    }

    public int get(int index) {
        if (index >= size) throw new IndexOutOfBoundsException(index + " >= " + size);
        return data[index];
    }

    public int size() { return size; }

    public int[] toArray() { return Arrays.copyOf(data, size); }
}
