package zq.runtime;

import zq.formats.gptq.Int4Layout;
import zq.formats.Checkpoint;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.QuantizationConfig;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads one decoder layer from a checkpoint as dense fp32: plain weights as they are, GPTQ Int4 Linears
 * dequantized with {@link zq.formats.gptq.Int4Layout}. Only this layer's tensors are touched, so a whole model
 * never needs to be decoded at once.
 */
public final class LayerWeightsLoader {
    private LayerWeightsLoader() {}

    public static LayerWeights load(Checkpoint checkpoint, int layer) {
        List<LayerLayout> layers = checkpoint.layout().layers();
        if (layer < 0 || layer >= layers.size()) {
            throw new IllegalArgumentException(checkpoint.dir() + ": no layer " + layer + " (the model has " + layers.size() + ")");
        }
        LayerLayout l = layers.get(layer);
        // dequantizing is single-threaded per tensor: load the Linears side by side
        Map<LinearRef, Linear> loaded = new ConcurrentHashMap<>();
        l.linears().parallelStream().forEach(ref -> loaded.put(ref, loadLinear(checkpoint, ref)));
        List<Linear> attention = l.attention().stream().map(loaded::get).toList();
        return new LayerWeights(l, norm(checkpoint, l.inputNorm()), norm(checkpoint, l.postAttentionNorm()), attention,
                loaded.get(l.o()), loaded.get(l.gate()), loaded.get(l.up()), loaded.get(l.down()));
    }

    /** One Linear as dense fp32, dequantized when the checkpoint is GPTQ. */
    public static Linear loadLinear(Checkpoint checkpoint, LinearRef ref) {
        QuantizationConfig q = checkpoint.config().quantization();
        float[] weight;
        if (q == null) {
            weight = checkpoint.floats(ref.weight());
        } else {
            weight = Int4Layout.dequantize(checkpoint.dir() + ": " + ref.prefix(), checkpoint.ints(ref.qweight()),
                    checkpoint.ints(ref.qzeros()), checkpoint.floats(ref.scales()), checkpoint.ints(ref.gIdx()),
                    ref.inFeatures(), ref.outFeatures(), q.zeroFormat());
        }
        float[] bias = ref.hasBias() ? checkpoint.floats(ref.bias()) : null;
        return new Linear(ref, weight, bias);
    }

    private static float[] norm(Checkpoint checkpoint, String name) {
        float[] w = checkpoint.floats(name);
        int h = checkpoint.config().hiddenSize();
        if (w.length != h) {
            throw new IllegalArgumentException(checkpoint.dir() + ": tensor '" + name + "' has " + w.length + " values, expected hidden_size " + h);
        }
        return w;
    }
}
