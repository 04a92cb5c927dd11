package zq.formats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one safetensors file, push-style: {@link #open} writes the header (its size is known from the planned
 * shapes), then {@link #put} streams each tensor's bytes in the planned order, and {@link #finish} checks that all
 * came. The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
public final class SafetensorsWriter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final List<Planned> plan;
    private final FileChannel channel;
    private int next;

    private SafetensorsWriter(Path file, List<Planned> plan, FileChannel channel) {
        this.file = file;
        this.plan = plan;
        this.channel = channel;
    }

    /** A tensor's place in a file: what its bytes must be. */
    public record Planned(String name, DType dtype, long[] shape) {
        public long byteSize() {
            long n = dtype.bytes();
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** One tensor to write. */
    public record Entry(String name, DType dtype, long[] shape, TensorData data) {
        public long byteSize() { return planned().byteSize(); }

        public Planned planned() { return new Planned(name, dtype, shape); }
    }

    /** The metadata every zq file carries: transformers refuses files without format=pt. */
    public static Map<String, String> defaultMetadata() { return Map.of("format", "pt"); }

    /** Writes {@code entries} in the given order to a new file (an existing file is an error); see {@link #put}. */
    public static void write(Path file, Map<String, String> metadata, List<Entry> entries) throws IOException {
        try (SafetensorsWriter w = open(file, metadata, entries.stream().map(Entry::planned).toList())) {
            for (Entry e : entries) w.put(e.name(), e.data());
            w.finish();
        }
    }

    /**
     * A write error that names the file: the kernel's "No space left on device" (ENOSPC) carries no path, and a user
     * with several disks needs to know which one is full.
     */
    static IOException withPath(Path file, String writing, IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains(file.toString()) || (e instanceof java.nio.file.FileSystemException f && f.getFile() != null)) return e;
        return new IOException(file + ": cannot write " + writing + ": " + m, e);
    }

    /** Writes a small text file (config, index), naming the file in any error. */
    static void writeText(Path file, String text) throws IOException {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw withPath(file, "it", e);
        }
    }

    /** Creates {@code file} (an existing file is an error) and writes the header of {@code plan}. */
    public static SafetensorsWriter open(Path file, Map<String, String> metadata, List<Planned> plan) throws IOException {
        byte[] header = header(metadata, plan);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            TensorData.writeAll(ch, len);
            TensorData.writeAll(ch, ByteBuffer.wrap(header));
        } catch (IOException e) {
            ch.close();
            throw withPath(file, "the header", e);
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
        return new SafetensorsWriter(file, List.copyOf(plan), ch);
    }

    /**
     * Writes the next planned tensor. A name out of plan order, or data producing a byte count other than the
     * planned shape implies, fails with an IOException naming the tensor; the partly written file is left for the
     * caller's {@link OutputFolder} to discard.
     */
    public void put(String name, TensorData data) throws IOException {
        if (next >= plan.size()) throw new IOException(file + ": tensor '" + name + "' is beyond the " + plan.size() + " planned");
        Planned p = plan.get(next);
        if (!p.name().equals(name)) {
            throw new IOException(file + ": tensor '" + name + "' was written where the plan has '" + p.name() + "'");
        }
        // The file channel itself is handed over so copies from other files can use transferTo's
        // fast path; its position counts what the data wrote either way.
        long before = channel.position();
        try {
            data.writeTo(channel);
        } catch (IOException e) {
            throw withPath(file, "tensor '" + name + "'", e);
        }
        long produced = channel.position() - before;
        if (produced != p.byteSize()) {
            throw new IOException(file + ": tensor '" + name + "' produced " + produced + " bytes, expected " + p.byteSize());
        }
        next++;
    }

    /** Whether every planned tensor was put. */
    public boolean complete() { return next == plan.size(); }

    /** Closes the file after checking that every planned tensor was written. */
    public void finish() throws IOException {
        if (!complete()) {
            throw new IOException(file + ": only " + next + " of " + plan.size() + " planned tensors were written; next was '"
                    + plan.get(next).name() + "'");
        }
        channel.close();
    }

    /** Closes the file, complete or not (an incomplete file is the caller's {@link OutputFolder}'s to discard). */
    @Override public void close() throws IOException { channel.close(); }

    static byte[] header(Map<String, String> metadata, List<Planned> entries) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        Set<String> seen = new HashSet<>();
        for (Planned e : entries) {
            if (e.name().equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' cannot name a tensor");
            if (!seen.add(e.name())) throw new IllegalArgumentException("duplicate tensor name '" + e.name() + "'");
            for (long d : e.shape()) {
                if (d < 0) throw new IllegalArgumentException("tensor '" + e.name() + "': negative dimension in shape " + Arrays.toString(e.shape()));
            }
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            offset += e.byteSize();
            off.add(offset);
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize a safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }
}
