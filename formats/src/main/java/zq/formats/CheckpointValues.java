package zq.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The value checks that the shape checks of {@link Checkpoint#verify()} cannot make: every floating-point value is
 * finite, and every GPTQ {@code g_idx} entry names one of its Linear's scale groups. quantize and ppl refuse such data
 * when they decode it; inspect and convert use this so that they do not describe or copy it as if it were fine.
 */
public final class CheckpointValues {
    private CheckpointValues() {}

    /** Every value of every floating-point tensor and every g_idx of {@code c}. */
    public static void checkAll(Checkpoint c) {
        for (String name : c.tensorNames()) {
            SafetensorsFile f = c.fileOf(name);
            requireFinite(f, f.info(name));
        }
        requireGroupIndexInRange(c);
    }

    /** A floating-point tensor's raw values, in pieces of at most 1 GiB; other dtypes pass. */
    public static void requireFinite(SafetensorsFile f, TensorInfo t) {
        if (!t.dtype().isFloatingPoint()) return;
        try {
            f.forEachPiece(t, 0, t.numel(), (piece, first) -> requireFinite(piece, t.dtype(), first, f, t));
        } catch (IOException e) {
            throw new CheckpointException(f.path() + ": cannot read tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    /** One piece of raw values starting at element {@code first} of tensor {@code t} of file {@code f}. */
    public static void requireFinite(ByteBuffer raw, DType dtype, long first, SafetensorsFile f, TensorInfo t) {
        long i = FiniteValues.firstNonFinite(raw, dtype);
        if (i >= 0) {
            long at = first + i;
            throw new CheckpointException(f.path() + ": tensor '" + t.name() + "' has a non-finite value (NaN or infinity) at "
                    + "flat index " + at + " " + Arrays.toString(unravel(at, t.shape())));
        }
    }

    /** For every quantized Linear: 0 ≤ g_idx[k] < the number of groups in its scales. */
    public static void requireGroupIndexInRange(Checkpoint c) {
        if (!c.config().isQuantized()) return;
        for (LayerLayout layer : c.layout().layers()) {
            for (LinearRef l : layer.linears()) {
                if (!c.has(l.gIdx()) || !c.has(l.scales())) continue;
                int[] gIdx = c.ints(l.gIdx());
                long groups = c.info(l.scales()).shape()[0];
                for (int k = 0; k < gIdx.length; k++) {
                    if (gIdx[k] < 0 || gIdx[k] >= groups) {
                        throw new CheckpointException(c.fileOf(l.gIdx()).path() + ": tensor '" + l.gIdx() + "' has g_idx[" + k + "] = "
                                + gIdx[k] + ", outside the " + groups + " groups of " + l.scales());
                    }
                }
            }
        }
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 0) return idx;
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }
}
