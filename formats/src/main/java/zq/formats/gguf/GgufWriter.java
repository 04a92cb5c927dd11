package zq.formats.gguf;

import zq.formats.CheckpointException;
import zq.formats.OutputFile;
import zq.formats.TensorData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file in one pass without holding tensors in memory. The tensor table is planned up
 * front (names, types, shapes: every offset follows from them), so header, metadata and table are written
 * first; then each tensor is pushed in plan order and streamed from its {@link TensorData}. A pushed
 * tensor that differs from the plan in name, type or shape, or whose data yields another byte count, is
 * refused. The file is written under a hidden partial name ({@link OutputFile}) and appears only after
 * {@link #commit()} once every planned tensor is in.
 */
public final class GgufWriter implements AutoCloseable {
    private final OutputFile output;
    private final FileChannel channel;
    private final List<GgufTensorInfo> plan;
    private final long dataStart;
    private final int alignment;
    private int next;

    private GgufWriter(OutputFile output, FileChannel channel, List<GgufTensorInfo> plan, long dataStart, int alignment) {
        this.output = output;
        this.channel = channel;
        this.plan = plan;
        this.dataStart = dataStart;
        this.alignment = alignment;
    }

    /** Starts {@code target} (which must not exist) and writes everything up to the first tensor's data. */
    public static GgufWriter create(Path target, GgufMetadata metadata, List<GgufTensorInfo> planned) throws IOException {
        int alignment = Gguf.DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get(Gguf.ALIGNMENT_KEY);
        if (a != null) alignment = (int) a.asLong();
        List<GgufTensorInfo> plan = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (GgufTensorInfo t : planned) {
            if (!names.add(t.name())) throw new IllegalArgumentException("tensor '" + t.name() + "' planned twice");
            if (t.dims().length == 0 || t.dims().length > Gguf.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.dims().length + " dimensions (1 to 4 allowed)");
            }
            plan.add(new GgufTensorInfo(t.name(), t.type(), t.dims().clone(), offset));
            offset = Gguf.align(offset + t.byteSize(), alignment);
        }
        HeaderBuffer h = new HeaderBuffer();
        h.u32(Gguf.MAGIC).u32(Gguf.VERSION).u64(plan.size()).u64(metadata.asMap().size());
        for (Map.Entry<String, GgufValue> e : metadata.asMap().entrySet()) {
            h.string(e.getKey());
            h.value(e.getValue());
        }
        for (GgufTensorInfo t : plan) {
            h.string(t.name()).u32(t.dims().length);
            for (long d : t.dims()) h.u64(d);
            h.u32(t.type().id()).u64(t.offset());
        }
        long dataStart = Gguf.align(h.size(), alignment);
        OutputFile out = OutputFile.create(target);
        try {
            FileChannel ch = FileChannel.open(out.path(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            ByteBuffer b = h.finish();
            TensorData.writeAll(ch, b);
            pad(ch, dataStart);
            return new GgufWriter(out, ch, List.copyOf(plan), dataStart, alignment);
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** Where the file is being written (a hidden partial path until {@link #commit()}). */
    public Path path() { return output.path(); }

    /** The planned tensors with their offsets. */
    public List<GgufTensorInfo> plan() { return plan; }

    /** Writes the next planned tensor; name, type and dims must be those planned. */
    public void push(String name, GgmlType type, long[] dims, TensorData data) throws IOException {
        if (next >= plan.size()) throw new IllegalStateException(output.target() + ": tensor '" + name + "' pushed after the last planned tensor");
        GgufTensorInfo t = plan.get(next);
        if (!t.name().equals(name) || t.type() != type || !Arrays.equals(t.dims(), dims)) {
            throw new IllegalStateException(output.target() + ": tensor " + next + " pushed as '" + name + "' " + type + " "
                    + Arrays.toString(dims) + " but planned as '" + t.name() + "' " + t.type() + " " + t.dimsString());
        }
        long start = dataStart + t.offset();
        if (channel.position() != start) throw new IllegalStateException("writer is at " + channel.position() + ", tensor '" + name + "' starts at " + start);
        data.writeTo(channel);
        long produced = channel.position() - start;
        if (produced != t.byteSize()) {
            throw new CheckpointException(output.target() + ": tensor '" + name + "' produced " + produced + " bytes, "
                    + t.type() + " " + t.dimsString() + " needs " + t.byteSize());
        }
        next++;
        pad(channel, next < plan.size() ? dataStart + plan.get(next).offset() : Gguf.align(channel.position(), alignment));
    }

    /** Checks that every planned tensor was written, syncs, and gives the file its name. */
    public Path commit() throws IOException {
        if (next != plan.size()) {
            throw new IllegalStateException(output.target() + ": " + (plan.size() - next) + " planned tensors were not written, first '"
                    + plan.get(next).name() + "'");
        }
        channel.force(true);
        channel.close();
        return output.commit();
    }

    @Override public void close() throws IOException {
        try {
            if (channel.isOpen()) channel.close();
        } finally {
            output.close();
        }
    }

    private static void pad(FileChannel ch, long to) throws IOException {
        long n = to - ch.position();
        if (n > 0) TensorData.writeAll(ch, ByteBuffer.allocate((int) n));
    }

    /** A growing little-endian buffer for header, metadata and tensor table. */
    private static final class HeaderBuffer {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void room(int n) {
            if (b.remaining() >= n) return;
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
            b.flip();
            bigger.put(b);
            b = bigger;
        }

        HeaderBuffer u32(long v) { room(4); b.putInt((int) v); return this; }

        HeaderBuffer u64(long v) { room(8); b.putLong(v); return this; }

        HeaderBuffer string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            room(bytes.length);
            b.put(bytes);
            return this;
        }

        void value(GgufValue v) {
            u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) {
                u32(v.elementType().id()).u64(v.list().size());
                for (Object o : v.list()) scalar(v.elementType(), o);
            } else {
                scalar(v.type(), v.value());
            }
        }

        private void scalar(GgufValueType t, Object o) {
            room(8);
            switch (t) {
                case UINT8, INT8 -> b.put(((Number) o).byteValue());
                case UINT16, INT16 -> b.putShort(((Number) o).shortValue());
                case UINT32, INT32 -> b.putInt(((Number) o).intValue());
                case UINT64, INT64 -> b.putLong(((Number) o).longValue());
                case FLOAT32 -> b.putFloat(((Number) o).floatValue());
                case FLOAT64 -> b.putDouble(((Number) o).doubleValue());
                case BOOL -> b.put((byte) ((Boolean) o ? 1 : 0));
                case STRING -> string((String) o);
                case ARRAY -> throw new IllegalArgumentException("GGUF arrays of arrays are not written by zq");
            }
        }

        long size() { return b.position(); }

        ByteBuffer finish() { return b.flip(); }
    }
}
