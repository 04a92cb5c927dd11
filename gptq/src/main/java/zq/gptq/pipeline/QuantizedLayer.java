package zq.gptq.pipeline;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import zq.formats.gptq.PackedLinear;

/**
 * One decoder layer's quantised Linears, packed for the checkpoint. Only the packed tensors are kept
 * (an eighth of the fp32 weight), so holding a finished layer until it is written costs little.
 *
 * @param index   decoder layer index
 * @param packed  packed tensors by the Linear's state-dict prefix, in true-sequential order
 * @param modules what each solve did, same order
 * @param seconds wall time of the whole layer
 */
public record QuantizedLayer(int index, Map<String, PackedLinear> packed, List<ModuleReport> modules, double seconds) {

    public QuantizedLayer {
        packed = Collections.unmodifiableMap(new LinkedHashMap<>(packed));
        modules = List.copyOf(modules);
    }

    /** The packed Linear with this prefix. */
    public PackedLinear linear(String prefix) {
        PackedLinear p = packed.get(prefix);
        if (p == null) throw new IllegalArgumentException("layer " + index + " has no quantised Linear '" + prefix + "'");
        return p;
    }
}
