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
 * Writes one safetensors file: the header first (its size is known from the shapes), then each
 * tensor's bytes streamed from its {@link TensorData}. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference writer does.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** One tensor to write. */
    public record Entry(String name, DType dtype, long[] shape, TensorData data) {
        public long byteSize() {
            long n = dtype.bytes();
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** The metadata every zq file carries: transformers refuses files without format=pt. */
    public static Map<String, String> defaultMetadata() { return Map.of("format", "pt"); }

    /**
     * Writes {@code entries} in the given order to a new file (an existing file is an error). A tensor
     * whose data produces a byte count other than its shape implies fails the write with an
     * IOException naming it; the partly written file is left for the caller's {@link OutputFolder} to discard.
     */
    public static void write(Path file, Map<String, String> metadata, List<Entry> entries) throws IOException {
        byte[] header = header(metadata, entries);
        String writing = "the header";
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            TensorData.writeAll(ch, len);
            TensorData.writeAll(ch, ByteBuffer.wrap(header));
            for (Entry e : entries) {
                writing = "tensor '" + e.name() + "'";
                // The file channel itself is handed over so copies from other files can use transferTo's
                // fast path; its position counts what the data wrote either way.
                long before = ch.position();
                e.data().writeTo(ch);
                long produced = ch.position() - before;
                if (produced != e.byteSize()) {
                    throw new IOException(file + ": tensor '" + e.name() + "' produced " + produced
                            + " bytes, expected " + e.byteSize());
                }
            }
        } catch (IOException e) {
            throw withPath(file, writing, e);
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

    static byte[] header(Map<String, String> metadata, List<Entry> entries) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        Set<String> seen = new HashSet<>();
        for (Entry e : entries) {
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
