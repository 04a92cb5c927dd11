package zq.formats.gguf;

import zq.formats.ChannelFiles;
import zq.formats.CheckpointException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (v2 or v3) opened for reading. Opening validates what llama.cpp's {@code gguf_init_from_file}
 * checks (ggml/src/gguf.cpp) and a little more: magic and version, lengths and counts that fit the file,
 * known value and tensor types, unique keys and tensor names, 1 to 4 positive dimensions, offsets on the
 * alignment, tensors inside the file and not overlapping. Every defect is a {@link CheckpointException}
 * naming the file and, where there is one, the key or tensor. Tensor data is read on demand.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long dataStart;
    private final int alignment;

    private GgufFile(Path path, FileChannel channel, int version, Map<String, GgufValue> metadata,
                     Map<String, GgufTensorInfo> tensors, long dataStart, int alignment) {
        this.path = path;
        this.channel = channel;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.alignment = alignment;
    }

    public static GgufFile open(Path file) { return ChannelFiles.open(file, GgufFile::parse); }

    private static GgufFile parse(Path file, FileChannel ch) throws IOException {
        Cursor in = new Cursor(file, ch);
        if (in.size < 24) throw bad(file, "truncated file: " + in.size + " bytes, shorter than a GGUF header");
        int magic = (int) in.u32("magic");
        if (magic != Gguf.MAGIC) throw bad(file, String.format("not a GGUF file (magic 0x%08X, expected \"GGUF\")", magic));
        long version = in.u32("version");
        if (version != 2 && version != 3) throw bad(file, "GGUF version " + version + " is not supported (2 or 3)");
        long tensorCount = in.u64("tensor count");
        long kvCount = in.u64("metadata count");
        // each tensor entry takes at least 8 (name length) + 4 + 8 + 4 + 8 bytes, each key-value at least 8 + 4 + 1
        if (Long.compareUnsigned(tensorCount, in.size / 32) > 0) throw bad(file, "tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the file");
        if (Long.compareUnsigned(kvCount, in.size / 13) > 0) throw bad(file, "metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the file");
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key " + i);
            if (key.isEmpty()) throw bad(file, "metadata key " + i + " is empty");
            GgufValueType type = in.valueType("metadata '" + key + "'");
            GgufValue v = type == GgufValueType.ARRAY ? in.array(key) : GgufValue.of(type, in.scalar(type, key));
            if (metadata.putIfAbsent(key, v) != null) throw bad(file, "metadata key '" + key + "' appears twice");
        }
        int alignment = Gguf.DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get(Gguf.ALIGNMENT_KEY);
        if (a != null) {
            if (a.type() != GgufValueType.UINT32 || a.asLong() == 0 || Long.bitCount(a.asLong()) != 1) {
                throw bad(file, Gguf.ALIGNMENT_KEY + " must be a uint32 power of two, got " + a.type() + " " + a.value());
            }
            alignment = (int) a.asLong();
        }
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor " + i + " name");
            long nDims = in.u32("tensor '" + name + "' dimension count");
            if (nDims < 1 || nDims > Gguf.MAX_DIMS) throw bad(file, "tensor '" + name + "' has " + nDims + " dimensions (1 to 4 allowed)");
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.u64("tensor '" + name + "' dimension");
                if (dims[d] <= 0) throw bad(file, "tensor '" + name + "' has dimension " + Long.toUnsignedString(dims[d]) + " (must be positive)");
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw bad(file, "tensor '" + name + "' dimensions overflow");
                }
            }
            long typeId = in.u32("tensor '" + name + "' type");
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) throw bad(file, "tensor '" + name + "' has ggml type " + typeId + ", which zq does not read (F32, F16, BF16, Q8_0, Q4_0, Q4_1)");
            if (dims[0] % type.blockSize() != 0) {
                throw bad(file, "tensor '" + name + "': row length " + dims[0] + " is not a multiple of the " + type + " block size " + type.blockSize());
            }
            long offset = in.u64("tensor '" + name + "' offset");
            if (offset < 0 || offset % alignment != 0) {
                throw bad(file, "tensor '" + name + "' offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            try {
                type.byteSize(elements, dims[0]);
            } catch (ArithmeticException e) {
                throw bad(file, "tensor '" + name + "' " + type + " " + Arrays.toString(dims) + " is larger than any file can hold");
            }
            if (tensors.putIfAbsent(name, new GgufTensorInfo(name, type, dims, offset)) != null) {
                throw bad(file, "tensor '" + name + "' appears twice in the tensor table");
            }
        }
        long dataStart = Gguf.align(in.position(), alignment);
        long dataSize = in.size - dataStart;
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        long end = 0;
        GgufTensorInfo prev = null;
        for (GgufTensorInfo t : byOffset) {
            if (t.offset() < end) throw bad(file, "tensor '" + t.name() + "' (offset " + t.offset() + ") overlaps tensor '" + prev.name() + "'");
            // Compared as offset > dataSize - size so that a huge offset or size cannot overflow into a pass.
            if (t.byteSize() > dataSize - t.offset()) {
                throw bad(file, "truncated file: tensor '" + t.name() + "' " + t.type() + " " + t.dimsString() + " needs "
                        + t.byteSize() + " bytes from offset " + t.offset() + " of the data section, which has " + Math.max(0, dataSize));
            }
            end = t.offset() + t.byteSize();
            prev = t;
        }
        return new GgufFile(file, ch, (int) version, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors),
                dataStart, alignment);
    }

    public Path path() { return path; }

    public int version() { return version; }

    public int alignment() { return alignment; }

    public Map<String, GgufValue> metadata() { return metadata; }

    /** Tensors in table order. */
    public List<GgufTensorInfo> tensors() { return List.copyOf(tensors.values()); }

    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) throw new CheckpointException(path + ": tensor '" + name + "' is missing");
        return t;
    }

    public boolean has(String name) { return tensors.containsKey(name); }

    /** A metadata value, or a clear error naming the key when it is absent. */
    public GgufValue require(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) throw new CheckpointException(path + ": metadata key '" + key + "' is missing");
        return v;
    }

    /** Rows {@code [row, row + count)} of a tensor, decoded to fp32. */
    public float[] rows(String name, long row, int count) {
        GgufTensorInfo t = tensor(name);
        if (row < 0 || count < 0 || row + count > t.rows()) throw new IllegalArgumentException("rows outside tensor '" + name + "'");
        long rowBytes = t.type().byteSize(t.rowLength(), t.rowLength());
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(rowBytes * count)).order(ByteOrder.LITTLE_ENDIAN);
        try {
            long pos = dataStart + t.offset() + row * rowBytes;
            while (b.hasRemaining()) {
                if (channel.read(b, pos + b.position()) < 0) throw new IOException("unexpected end of file");
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
        b.flip();
        float[] out = new float[Math.toIntExact(t.rowLength() * count)];
        t.type().decode(b, out, 0, out.length);
        return out;
    }

    /** The whole tensor decoded to fp32, row-major (innermost dimension fastest). */
    public float[] floats(String name) {
        GgufTensorInfo t = tensor(name);
        return rows(name, 0, Math.toIntExact(t.rows()));
    }

    @Override public void close() { ChannelFiles.closeQuietly(channel); }

    private static CheckpointException bad(Path file, String what) { return new CheckpointException(file + ": " + what); }


    /** Sequential little-endian reads through a buffer, every length checked against the bytes left. */
    private static final class Cursor {
        private final Path file;
        private final FileChannel ch;
        final long size;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long bufStart;

        Cursor(Path file, FileChannel ch) throws IOException {
            this.file = file;
            this.ch = ch;
            this.size = ch.size();
            buf.limit(0);
        }

        long position() { return bufStart + buf.position(); }

        private void need(int n, String what) throws IOException {
            if (buf.remaining() >= n) return;
            if (position() + n > size) throw bad(file, "truncated file: " + what + " at offset " + position() + " runs past the end (" + size + " bytes)");
            bufStart = position();
            buf.compact();
            while (buf.position() < n) {
                if (ch.read(buf, bufStart + buf.position()) < 0) throw new IOException("unexpected end of file");
            }
            buf.flip();
        }

        long u32(String what) throws IOException { need(4, what); return buf.getInt() & 0xFFFFFFFFL; }

        long u64(String what) throws IOException { need(8, what); return buf.getLong(); }

        GgufValueType valueType(String what) throws IOException {
            long id = u32(what + " type");
            GgufValueType t = GgufValueType.fromId(id);
            if (t == null) throw bad(file, what + " has unknown value type " + id);
            return t;
        }

        String string(String what) throws IOException {
            long n = u64(what + " length");
            if (n < 0 || n > size - position()) throw bad(file, what + ": string length " + Long.toUnsignedString(n) + " runs past the end of the file");
            byte[] bytes = new byte[(int) Math.min(n, Integer.MAX_VALUE - 8)];
            if (bytes.length != n) throw bad(file, what + ": string of " + n + " bytes is too long");
            int done = 0;
            while (done < bytes.length) {
                need(1, what);
                int k = Math.min(buf.remaining(), bytes.length - done);
                buf.get(bytes, done, k);
                done += k;
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, what + " is not valid UTF-8");
            }
        }

        Object scalar(GgufValueType t, String key) throws IOException {
            String what = "metadata '" + key + "'";
            return switch (t) {
                case UINT8 -> { need(1, what); yield (long) (buf.get() & 0xFF); }
                case INT8 -> { need(1, what); yield (long) buf.get(); }
                case UINT16 -> { need(2, what); yield (long) (buf.getShort() & 0xFFFF); }
                case INT16 -> { need(2, what); yield (long) buf.getShort(); }
                case UINT32 -> u32(what);
                case INT32 -> { need(4, what); yield (long) buf.getInt(); }
                case UINT64, INT64 -> u64(what);
                case FLOAT32 -> { need(4, what); yield (double) buf.getFloat(); }
                case FLOAT64 -> { need(8, what); yield buf.getDouble(); }
                case BOOL -> {
                    need(1, what);
                    byte b = buf.get();
                    if (b != 0 && b != 1) throw bad(file, what + ": bool byte " + b + " is neither 0 nor 1");
                    yield b == 1;
                }
                case STRING -> string(what);
                case ARRAY -> throw bad(file, what + ": nested arrays are not supported");
            };
        }

        GgufValue array(String key) throws IOException {
            GgufValueType et = valueType("metadata '" + key + "' element");
            if (et == GgufValueType.ARRAY) throw bad(file, "metadata '" + key + "': nested arrays are not supported");
            long n = u64("metadata '" + key + "' length");
            long minBytes = et == GgufValueType.STRING ? 8 : et.bytes();
            if (n < 0 || n > (size - position()) / minBytes) {
                throw bad(file, "metadata '" + key + "': array of " + Long.toUnsignedString(n) + " " + et + " runs past the end of the file");
            }
            List<Object> l = new ArrayList<>((int) n);
            for (long i = 0; i < n; i++) l.add(scalar(et, key));
            return GgufValue.array(et, l);
        }
    }
}
