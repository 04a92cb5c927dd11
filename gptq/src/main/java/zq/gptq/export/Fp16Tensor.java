package zq.gptq.export;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.SafetensorsFile;
import zq.formats.TensorData;
import zq.formats.TensorInfo;

/**
 * An unquantised tensor of the input (embedding, norm, lm_head, bias) as fp16 for the GPTQ checkpoint, converted in
 * slices of {@link TensorData#CHUNK} elements so that even a multi-GB embedding never sits in memory whole. An fp16
 * input is copied byte for byte. A value that fp16 cannot hold is an error naming the tensor, not an infinity in the file.
 */
final class Fp16Tensor {
    private Fp16Tensor() {}

    static TensorData of(Checkpoint input, String name) {
        return of(input.fileOf(name), name);
    }

    static TensorData of(SafetensorsFile file, String name) {
        TensorInfo t = file.info(name);
        if (!t.dtype().isFloatingPoint()) {
            throw new CheckpointException(file.path() + ": tensor '" + name + "' has dtype " + t.dtype() + ", expected a floating-point tensor");
        }
        if (t.dtype() == DType.F16) return TensorData.copyOf(file, t);
        long total = t.numel();
        return out -> {
            float[] values = new float[(int) Math.min(TensorData.CHUNK, total)];
            short[] halves = new short[values.length];
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (long start = 0; start < total; start += values.length) {
                int n = (int) Math.min(values.length, total - start);
                file.readFloats(t, start, values, 0, n);
                // the embedding and lm_head of a 7B model are 1.3 G values: converted on every core
                boolean representable = IntStream.range(0, (n + SLICE - 1) / SLICE).parallel()
                        .mapToObj(k -> convert(values, halves, k * SLICE, Math.min(n, (k + 1) * SLICE)))
                        .reduce(true, Boolean::logicalAnd);
                if (!representable) throw unrepresentable(file, name, start, values, n);
                b.clear();
                b.asShortBuffer().put(halves, 0, n);
                b.limit(2 * n);
                TensorData.writeAll(out, b);
            }
        };
    }

    /** Elements per parallel task. */
    private static final int SLICE = 1 << 16;

    /** Converts values[from, to) into halves; false when one of them is not finite or overflows fp16. */
    private static boolean convert(float[] values, short[] halves, int from, int to) {
        boolean ok = true;
        for (int i = from; i < to; i++) {
            short h = HalfFloats.floatToF16(values[i]);
            halves[i] = h;
            // a finite float whose half has the all-ones exponent overflowed (rounded to infinity); NaN and
            // infinity map to that exponent too
            ok &= (h & 0x7C00) != 0x7C00;
        }
        return ok;
    }

    private static CheckpointException unrepresentable(SafetensorsFile file, String name, long start, float[] values, int n) {
        int i = 0;
        while (i < n && Float.isFinite(values[i]) && !HalfFloats.overflowsF16(values[i])) i++;
        return new CheckpointException(file.path() + ": tensor '" + name + "' holds " + values[i] + " at flat index " + (start + i)
                + ", which fp16 cannot represent (GPTQ checkpoints keep unquantised tensors in fp16, max 65504)");
    }
}
