package zq.formats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

    public static void write(Path file, Map<String, String> metadata, List<Entry> entries) throws IOException {
        byte[] header = header(metadata, entries);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            TensorData.writeAll(ch, len);
            TensorData.writeAll(ch, ByteBuffer.wrap(header));
            for (Entry e : entries) {
                CountingChannel counting = new CountingChannel(ch);
                e.data().writeTo(counting);
                if (counting.count != e.byteSize()) {
                    throw new IOException(file + ": tensor '" + e.name() + "' produced " + counting.count
                            + " bytes, expected " + e.byteSize());
                }
            }
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
            if (!seen.add(e.name())) throw new IllegalArgumentException("duplicate tensor name '" + e.name() + "'");
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            offset += e.byteSize();
            off.add(offset);
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel inner;
        long count;

        CountingChannel(WritableByteChannel inner) { this.inner = inner; }

        @Override public int write(ByteBuffer src) throws IOException {
            int n = inner.write(src);
            count += n;
            return n;
        }

        @Override public boolean isOpen() { return inner.isOpen(); }

        @Override public void close() { /* the file channel is closed by the writer */ }
    }
}
