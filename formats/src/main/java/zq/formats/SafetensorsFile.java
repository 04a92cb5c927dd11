package zq.formats;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * A safetensors file opened for reading, validated as strictly as the reference implementation.
 * Tensors are decoded from positional reads in chunks, or memory-mapped on demand for callers that
 * want the raw bytes, one range at a time, so files and tensors larger than 2 GiB are read in pieces
 * and nothing is loaded whole. Reads may run concurrently from several threads.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's MAX_HEADER_SIZE. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;
    /** Largest piece mapped at once; a MappedByteBuffer cannot exceed Integer.MAX_VALUE. */
    static final long MAX_MAP = 1L << 30;
    /** Bytes per positional read when decoding: system calls are negligible at this size, and a chunk stays in cache while it is decoded. */
    static final int READ_CHUNK = 1 << 20;
    /** Each reading thread's chunk buffer, reused for every read: fresh direct memory is slow on first touch. */
    private static final ThreadLocal<ByteBuffer> READ_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(READ_CHUNK).order(ByteOrder.LITTLE_ENDIAN));

    /** Duplicate keys and anything after the JSON object are errors, as with the reference's serde_json. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Valid safetensors dtypes that zq has no decoder for: reported as unsupported rather than unknown. */
    private static final Set<String> FOREIGN_DTYPES = Set.of("F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3",
            "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64");

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors; // header order
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code file}; throws {@link CheckpointException} naming the file on any defect. */
    public static SafetensorsFile open(Path file) { return ChannelFiles.open(file, SafetensorsFile::parse); }

    private static SafetensorsFile parse(Path file, FileChannel ch) {
        try {
            long size = ch.size();
            if (size < 8) throw bad(file, "truncated file: " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (Long.compareUnsigned(n, MAX_HEADER_SIZE) > 0) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes");
            }
            if (8 + n > size) {
                throw bad(file, "header length " + n + " goes beyond the end of the file (" + size + " bytes): truncated file?");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            byte[] header = hb.array();
            if (n == 0 || header[0] != '{') throw bad(file, "header is not a JSON object (must start with '{')");
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, "header is not valid UTF-8");
            }
            JsonNode root;
            try {
                root = JSON.readTree(text);
            } catch (IOException e) {
                throw bad(file, "header is not valid JSON: " + firstLine(e.getMessage()));
            }
            if (root == null || !root.isObject()) throw bad(file, "header is not a JSON object");
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    readMetadata(file, e.getValue(), metadata);
                } else {
                    tensors.put(e.getKey(), readEntry(file, e.getKey(), e.getValue()));
                }
            }
            checkOffsets(file, tensors.values(), size - 8 - n);
            return new SafetensorsFile(file, ch, 8 + n, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
        if (node.isNull()) return; // serde reads null as an absent Option
        if (!node.isObject()) throw bad(file, "__metadata__ must be an object of strings");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) throw bad(file, "__metadata__ value for '" + m.getKey() + "' is not a string");
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node) {
        if (!node.isObject()) throw bad(file, "tensor '" + name + "': entry is not an object");
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) throw bad(file, "tensor '" + name + "': missing dtype");
        DType dtype = DType.fromSafetensorsName(dt.asText());
        if (dtype == null) {
            throw bad(file, "tensor '" + name + "': " + (FOREIGN_DTYPES.contains(dt.asText())
                    ? "dtype " + dt.asText() + " is not supported by zq" : "unknown dtype '" + dt.asText() + "'"));
        }
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) throw bad(file, "tensor '" + name + "': missing shape");
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw bad(file, "tensor '" + name + "': shape " + sh + " is not a list of non-negative integers");
            }
            shape[i] = d.asLong();
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !isLong(off.get(0)) || !isLong(off.get(1))) {
            throw bad(file, "tensor '" + name + "': data_offsets must be [begin, end]");
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin) throw bad(file, "tensor '" + name + "': invalid data_offsets [" + begin + ", " + end + "]");
        TensorInfo t = new TensorInfo(name, dtype, shape, begin, end, file);
        long expected;
        try {
            expected = Math.multiplyExact(t.numel(), (long) dtype.bytes());
        } catch (ArithmeticException e) {
            throw bad(file, "tensor '" + name + "': shape " + t.shapeString() + " is too large");
        }
        if (end - begin != expected) {
            throw bad(file, "tensor '" + name + "': data_offsets span " + (end - begin) + " bytes but shape "
                    + t.shapeString() + " of " + dtype + " needs " + expected);
        }
        return t;
    }

    private static boolean isLong(JsonNode n) { return n.isIntegralNumber() && n.canConvertToLong(); }

    private static void checkOffsets(Path file, java.util.Collection<TensorInfo> all, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expect = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < expect) {
                throw bad(file, "tensor '" + t.name() + "' overlaps tensor '" + prev.name() + "' (offset " + t.begin()
                        + " < " + expect + ")");
            }
            if (t.begin() > expect) {
                throw bad(file, "gap in data before tensor '" + t.name() + "' (offset " + t.begin() + ", expected " + expect + ")");
            }
            expect = t.end();
            prev = t;
        }
        if (expect != dataSize) {
            throw bad(file, expect > dataSize
                    ? "truncated file: tensors need " + expect + " data bytes but only " + dataSize + " are present"
                    : "file has " + (dataSize - expect) + " trailing bytes after the last tensor");
        }
    }

    public Path path() { return path; }

    /** The string→string {@code __metadata__} map (empty if absent). */
    public Map<String, String> metadata() { return metadata; }

    /** Tensors in header order. */
    public java.util.Collection<TensorInfo> tensors() { return tensors.values(); }

    /** The tensor called {@code name}, or null. */
    public TensorInfo info(String name) { return tensors.get(name); }

    public TensorInfo require(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new CheckpointException(path + ": tensor '" + name + "' is missing");
        return t;
    }

    /** Maps {@code length} bytes of tensor {@code t} starting {@code offset} bytes into it (length ≤ 1 GiB). */
    public ByteBuffer map(TensorInfo t, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > t.byteSize()) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + length) + ") outside tensor '" + t.name()
                    + "' of " + t.byteSize() + " bytes");
        }
        if (length > MAX_MAP) {
            throw new IllegalArgumentException("cannot map " + length + " bytes of tensor '" + t.name() + "' at once (limit "
                    + MAX_MAP + "); read it in pieces with forEachPiece");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + offset, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    /** Maps the whole tensor; for tensors under 1 GiB. */
    public ByteBuffer map(TensorInfo t) { return map(t, 0, t.byteSize()); }

    /** Receives one mapped piece of a tensor; {@code firstElement} is the tensor element the piece starts at. */
    @FunctionalInterface
    public interface PieceReader {
        void accept(ByteBuffer piece, long firstElement) throws IOException;
    }

    /**
     * Maps elements {@code [first, first+count)} of {@code t} in consecutive pieces of at most 1 GiB,
     * each a whole number of elements, and hands them to {@code reader} in order: raw bytes of tensors
     * larger than a MappedByteBuffer (2 GiB). To decode values, {@link #readFloats} is faster.
     */
    public void forEachPiece(TensorInfo t, long first, long count, PieceReader reader) throws IOException {
        if (first < 0 || count < 0 || first + count > t.numel()) {
            throw new IllegalArgumentException("elements [" + first + ", " + (first + count) + ") outside tensor '" + t.name()
                    + "' of " + t.numel() + " elements");
        }
        int es = t.dtype().bytes();
        long perPiece = MAX_MAP / es;
        for (long done = 0; done < count; ) {
            long n = Math.min(count - done, perPiece);
            reader.accept(map(t, (first + done) * es, n * es), first + done);
            done += n;
        }
    }

    /**
     * Reads {@code count} elements starting at element {@code first} of a floating-point tensor into
     * {@code dst[dstOff..]}, converting to fp32.
     */
    public void readFloats(TensorInfo t, long first, float[] dst, int dstOff, int count) {
        if (dstOff < 0 || count < 0 || dstOff > dst.length - count) {
            throw new IllegalArgumentException(count + " values at offset " + dstOff + " do not fit an array of " + dst.length);
        }
        readChunks(t, first, count, (b, at, n) -> TensorDecoder.toFloats(t.dtype(), b, dst, dstOff + (int) (at - first), n));
    }

    /** The whole tensor as fp32 (row-major). */
    public float[] readFloats(TensorInfo t) {
        float[] out = new float[arrayLength(t)];
        readFloats(t, 0, out, 0, out.length);
        return out;
    }

    /** The whole I32 tensor as ints. */
    public int[] readInts(TensorInfo t) {
        if (t.dtype() != DType.I32) {
            throw new CheckpointException(path + ": tensor '" + t.name() + "' is " + t.dtype() + ", expected I32");
        }
        int[] out = new int[arrayLength(t)];
        readChunks(t, 0, out.length, (b, at, n) -> b.asIntBuffer().get(out, (int) at, n));
        return out;
    }

    private int arrayLength(TensorInfo t) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(path + ": tensor '" + t.name() + "' has " + n + " elements, too many for one Java array");
        }
        return (int) n;
    }

    /** Decodes one chunk: {@code count} elements of the tensor from element {@code firstElement} on, at index 0 of {@code chunk}. */
    @FunctionalInterface
    private interface ChunkDecoder {
        void accept(ByteBuffer chunk, long firstElement, int count);
    }

    /**
     * Reads elements {@code [first, first+count)} of {@code t} with positional reads, in chunks of at most
     * {@link #READ_CHUNK} bytes, each into the calling thread's reused buffer, and decodes the chunks in
     * parallel (in no particular order). Mapping instead costs a page fault per 4 KB and an unmapping per
     * call, about 9× slower for a 7B-width weight.
     */
    private void readChunks(TensorInfo t, long first, long count, ChunkDecoder decoder) {
        if (first < 0 || count < 0 || first > t.numel() - count) {
            throw new IllegalArgumentException("elements [" + first + ", " + (first + count) + ") outside tensor '" + t.name()
                    + "' of " + t.numel() + " elements");
        }
        int es = t.dtype().bytes();
        long perChunk = READ_CHUNK / es;
        long chunks = (count + perChunk - 1) / perChunk;
        LongStream indices = LongStream.range(0, chunks);
        (chunks > 1 ? indices.parallel() : indices).forEach(c -> {
            long at = first + c * perChunk;
            int n = (int) Math.min(perChunk, first + count - at);
            ByteBuffer b = READ_BUFFER.get();
            b.clear().limit(n * es);
            try {
                readFully(channel, b, dataStart + t.begin() + at * es);
            } catch (IOException e) {
                throw new CheckpointException(path + ": cannot read tensor '" + t.name() + "' at element " + at + ": "
                        + e.getMessage(), e);
            }
            b.flip();
            decoder.accept(b, at, n);
        });
    }

    /** Streams the tensor's raw bytes into {@code out} without decoding them. */
    public void copyBytes(TensorInfo t, WritableByteChannel out) throws IOException {
        long pos = dataStart + t.begin(), end = dataStart + t.end();
        while (pos < end) {
            long n = channel.transferTo(pos, end - pos, out);
            if (n <= 0) throw new IOException(path + ": short read copying tensor '" + t.name() + "'");
            pos += n;
        }
    }

    @Override public void close() { ChannelFiles.closeQuietly(channel); }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    static CheckpointException bad(Path file, String what) { return new CheckpointException(file + ": " + what); }


    /** Whether {@code file} looks like a safetensors file by name. */
    public static boolean isSafetensors(Path file) {
        return Files.isRegularFile(file) && file.getFileName().toString().endsWith(".safetensors");
    }

    static ObjectNode newObject() { return JSON.createObjectNode(); }
}
