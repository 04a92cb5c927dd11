package zq.formats;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A checkpoint in numbers: tensors, elements, parameters and bytes, overall and per dtype.
 *
 * <p>{@code storedElements} counts every element in the files. {@code parameters} is the parameter
 * count of the dense model: for a dense checkpoint the elements of its tensors (rotary caches that
 * loaders skip are not parameters); for a GPTQ checkpoint the count of the dense model it encodes,
 * each packed Linear counted as out × in (plus its bias), taken from the config, which
 * {@link Checkpoint#open} has verified the packed tensors against. So a 4-bit model reports the same
 * parameters as its source, and far fewer stored elements (8 weights per I32).
 */
public record CheckpointStats(int tensors, long storedElements, long parameters, long bytes, Map<DType, Tally> byDtype) {

    /** The tensors of one dtype. */
    public record Tally(int tensors, long elements, long bytes) {
        Tally plus(Tally o) { return new Tally(tensors + o.tensors, elements + o.elements, bytes + o.bytes); }
    }

    public static CheckpointStats of(Checkpoint c) {
        Map<DType, Tally> byDtype = new EnumMap<>(DType.class);
        long elements = 0, bytes = 0, denseElements = 0;
        for (String name : c.tensorNames()) {
            TensorInfo t = c.info(name);
            byDtype.merge(t.dtype(), new Tally(1, t.numel(), t.byteSize()), Tally::plus);
            elements += t.numel();
            bytes += t.byteSize();
            if (!Checkpoint.isRotaryCache(name)) denseElements += t.numel();
        }
        long parameters = c.config().isQuantized() ? parameters(c.config()) : denseElements;
        return new CheckpointStats(c.tensorNames().size(), elements, parameters, bytes, Collections.unmodifiableMap(byDtype));
    }

    /** Parameters of the dense model {@code config} describes, from its numbers alone (no files). */
    public static long parameters(ModelConfig config) {
        long n = 0;
        for (long[] shape : ModelLayout.of(config).denseTensors().values()) {
            long e = 1;
            for (long d : shape) e = Math.multiplyExact(e, d);
            n += e;
        }
        return n;
    }
}
