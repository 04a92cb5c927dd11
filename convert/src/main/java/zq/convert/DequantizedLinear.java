package zq.convert;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.LinearRef;
import zq.formats.TensorData;
import zq.formats.gptq.Int4Layout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * The dense weight {@code [out, in]} of one GPTQ Linear, produced by the decoder the runtime uses
 * ({@link Int4Layout#dequantize}) a tile of output rows at a time (so a 7B FFN needs tens of MB, not
 * hundreds) and written in the target dtype.
 */
final class DequantizedLinear implements TensorData {
    /** Dense values per tile by default: 4M floats = 16 MB. */
    static final int TILE_VALUES = 1 << 22;
    private static final int PER_WORD = Int4Layout.PER_WORD;

    private final Checkpoint checkpoint;
    private final LinearRef linear;
    private final DType target;
    private final boolean allowOverflow;
    private final int tileValues;

    /** {@code tileValues}: about how many dense values to produce at once (at least 8 output rows). */
    DequantizedLinear(Checkpoint checkpoint, LinearRef linear, DType target, boolean allowOverflow, int tileValues) {
        this.checkpoint = checkpoint;
        this.linear = linear;
        this.target = target;
        this.allowOverflow = allowOverflow;
        this.tileValues = tileValues;
    }

    @Override public void writeTo(WritableByteChannel out) throws IOException {
        int in = linear.inFeatures(), outF = linear.outFeatures();
        int[] qweight = checkpoint.ints(linear.qweight());
        int[] qzeros = checkpoint.ints(linear.qzeros());
        float[] scales = checkpoint.floats(linear.scales());
        int[] gIdx = checkpoint.ints(linear.gIdx());
        int groups = scales.length / outF;
        var zeros = checkpoint.config().quantization().zeroFormat();
        int tile = Math.max(PER_WORD, Math.min(outF, tileValues / in / PER_WORD * PER_WORD));
        ByteBuffer buf = ByteBuffer.allocate(tile * in * target.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        long overflows = 0;
        for (int n0 = 0; n0 < outF; n0 += tile) {
            int w = Math.min(tile, outF - n0);
            float[] dense = Int4Layout.dequantize(checkpoint.dir() + ": " + linear.prefix(), columns(qweight, in / PER_WORD, outF, n0, w),
                    columns(qzeros, groups, outF / PER_WORD, n0 / PER_WORD, w / PER_WORD), columns(scales, groups, outF, n0, w),
                    gIdx, in, w, zeros);
            buf.clear();
            overflows += FloatConversion.fromFloats(dense, buf, target);
            buf.flip();
            TensorData.writeAll(out, buf);
        }
        if (overflows > 0 && !allowOverflow) {
            throw new CheckpointException(checkpoint.dir() + ": Linear '" + linear.prefix() + "': " + overflows
                    + " dequantized values overflow " + target + "; pass --allow-overflow to write them as infinity");
        }
    }

    /** Columns {@code [c0, c0+w)} of a row-major {@code [rows, cols]} array. */
    private static int[] columns(int[] a, int rows, int cols, int c0, int w) {
        int[] out = new int[rows * w];
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * cols + c0, out, r * w, w);
        return out;
    }

    private static float[] columns(float[] a, int rows, int cols, int c0, int w) {
        float[] out = new float[rows * w];
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * cols + c0, out, r * w, w);
        return out;
    }
}
