package zq.convert;

import zq.formats.CheckpointException;
import zq.formats.CheckpointValues;
import zq.formats.DType;
import zq.formats.SafetensorsFile;
import zq.formats.TensorData;
import zq.formats.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.stream.Collectors;

/**
 * Streams one output tensor from its {@link Gather}: pieces in the source dtype are copied as raw
 * bytes, other pieces are converted element by element. Inputs are read through memory-mapped
 * windows and output leaves through a small buffer, so no tensor is ever held whole in memory.
 */
final class GatherData implements TensorData {
    /** Input bytes mapped at once; bounds address space, not heap. */
    private static final long WINDOW = 64L << 20;
    private static final int OUT_BUFFER = 4 << 20;

    private final Gather gather;
    private final DType target;
    private final boolean allowOverflow;

    GatherData(Gather gather, DType target, boolean allowOverflow) {
        if (target != gather.sourceDtype() && !(gather.sourceDtype().isFloatingPoint() && FloatConversion.isTarget(target))) {
            throw new IllegalArgumentException("cannot convert " + gather.sourceDtype() + " to " + target);
        }
        this.gather = gather;
        this.target = target;
        this.allowOverflow = allowOverflow;
    }

    @Override public void writeTo(WritableByteChannel out) throws IOException {
        if (gather.isWholeCopy() && target == gather.sourceDtype()) {
            TensorRef t = gather.sources().get(0);
            CheckpointValues.requireFinite(t.file(), t.info()); // read from the page cache the copy then uses
            TensorData.copyOf(t.file(), t.info()).writeTo(out); // byte for byte, through transferTo
        } else {
            gatherPieces(out);
        }
    }

    private void gatherPieces(WritableByteChannel out) throws IOException {
        DType from = gather.sourceDtype();
        int inEs = from.bytes(), outEs = target.bytes();
        ByteBuffer buf = ByteBuffer.allocate(OUT_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        Window[] windows = new Window[gather.sources().size()];
        for (int i = 0; i < windows.length; i++) windows[i] = new Window(gather.sources().get(i));
        // raw copies check each source whole, in parallel pieces (row-sized slices would cost more than the copy);
        // conversions check each slice as they decode it
        if (from == target) for (TensorRef t : gather.sources()) CheckpointValues.requireFinite(t.file(), t.info());
        long overflows = 0;
        for (long r = 0; r < gather.rows(); r++) {
            for (Gather.Piece p : gather.pattern()) {
                Window w = windows[p.source()];
                long elem = r * gather.rowLength(w.ref) + p.start(), left = p.length();
                while (left > 0) {
                    int room = buf.remaining() / outEs;
                    if (room == 0) {
                        flush(buf, out);
                        continue;
                    }
                    ByteBuffer src = w.slice(elem * inEs, Math.min(left, room) * inEs);
                    int n = src.remaining() / inEs;
                    if (from != target) CheckpointValues.requireFinite(src, from, elem, w.ref.file(), w.ref.info());
                    if (from == target) buf.put(src);
                    else overflows += FloatConversion.convert(src, from, buf, target, n);
                    elem += n;
                    left -= n;
                }
            }
        }
        flush(buf, out);
        if (overflows > 0 && !allowOverflow) {
            String names = gather.sources().stream().map(TensorRef::describe).collect(Collectors.joining(", "));
            throw new CheckpointException(names + ": " + overflows + " value" + (overflows == 1 ? "" : "s")
                    + " overflow " + target + " (beyond its largest finite value); pass --allow-overflow to write them as infinity");
        }
    }

    private static void flush(ByteBuffer buf, WritableByteChannel out) throws IOException {
        buf.flip();
        TensorData.writeAll(out, buf);
        buf.clear();
    }

    /** A mapped window onto one source tensor, moved forward as reading proceeds. */
    private static final class Window {
        final TensorRef ref;
        private ByteBuffer mapped;
        private long start = -1; // byte offset of mapped within the tensor

        Window(TensorRef ref) { this.ref = ref; }

        /** Up to {@code length} bytes of the tensor at byte {@code offset} (at least one element). */
        ByteBuffer slice(long offset, long length) {
            TensorInfo t = ref.info();
            SafetensorsFile f = ref.file();
            if (mapped == null || offset < start || offset >= start + mapped.capacity()) {
                start = offset;
                mapped = f.map(t, offset, Math.min(WINDOW, t.byteSize() - offset));
            }
            int from = (int) (offset - start);
            int n = (int) Math.min(length, mapped.capacity() - from);
            return mapped.slice(from, n).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
