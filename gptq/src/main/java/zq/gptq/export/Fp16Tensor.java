package zq.gptq.export;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
        SafetensorsFile file = input.fileOf(name);
        TensorInfo t = file.info(name);
        if (!t.dtype().isFloatingPoint()) {
            throw new CheckpointException(file.path() + ": tensor '" + name + "' has dtype " + t.dtype() + ", expected a floating-point tensor");
        }
        if (t.dtype() == DType.F16) return TensorData.copyOf(file, t);
        long total = t.numel();
        return out -> {
            float[] values = new float[(int) Math.min(TensorData.CHUNK, total)];
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (long start = 0; start < total; start += values.length) {
                int n = (int) Math.min(values.length, total - start);
                file.readFloats(t, start, values, 0, n);
                b.clear();
                for (int i = 0; i < n; i++) b.putShort(toF16(file, name, start + i, values[i]));
                b.flip();
                TensorData.writeAll(out, b);
            }
        };
    }

    private static short toF16(SafetensorsFile file, String name, long index, float v) {
        if (!Float.isFinite(v) || HalfFloats.overflowsF16(v)) {
            throw new CheckpointException(file.path() + ": tensor '" + name + "' holds " + v + " at flat index " + index
                    + ", which fp16 cannot represent (GPTQ checkpoints keep unquantised tensors in fp16, max 65504)");
        }
        return HalfFloats.floatToF16(v);
    }
}
