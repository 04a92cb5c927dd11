package zq.gptq.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import zq.formats.Checkpoint;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.gptq.GptqConfig;
import zq.gptq.GptqSolver;
import zq.formats.gptq.PackedLinear;
import zq.formats.gptq.ZeroFormat;
import zq.gptq.QuantizedLinear;
import zq.gptq.hessian.CpuHessian;
import zq.runtime.Activations;
import zq.runtime.InputGroup;
import zq.runtime.LayerStream;
import zq.runtime.LayerWeights;
import zq.runtime.LinearInputObserver;
import zq.runtime.NativeWorkspace;

/**
 * AutoGPTQ's hook design, kept only as the reference the staged pipeline must match bit for bit: for each layer and
 * each input group, the whole layer runs over all windows while a hook collects that group's inputs; the group is
 * solved (factoring its Hessian for each Linear anew) and its weights swapped for the fake-quantised ones; after the
 * last group, the quantised layer runs once more for the next layer's input. Five forwards per layer with
 * true-sequential, two without (one for all Hessians, one for the outputs).
 */
final class FiveForwardReference {
    private FiveForwardReference() {}

    /** Packed Linears of every layer, by state-dict prefix. */
    static Map<String, PackedLinear> quantize(Checkpoint ck, GptqConfig config, boolean trueSequential, Calibration calibration,
                                              int chunkRows) {
        Map<String, PackedLinear> packed = new LinkedHashMap<>();
        GptqSolver solver = new GptqSolver(config);
        ZeroFormat format = config.sym() ? ZeroFormat.GPTQ_V1 : ZeroFormat.GPTQ_V2;
        try (NativeWorkspace ws = new NativeWorkspace(); LayerStream stream = new LayerStream(ck, chunkRows, 0, ws)) {
            Activations x = stream.embed(calibration.windows());
            for (LayerLayout layout : ck.layout().layers()) {
                LayerWeights w = stream.loadLayer(layout.index());
                List<InputGroup> groups = InputGroup.of(layout);
                if (trueSequential) {
                    for (InputGroup g : groups) {
                        float[] h = hessians(stream, w, x, List.of(g)).get(g.kind());
                        w = solve(solver, format, w, g, h, packed);
                    }
                } else {
                    Map<InputGroup.Kind, float[]> h = hessians(stream, w, x, groups);
                    for (InputGroup g : groups) w = solve(solver, format, w, g, h.get(g.kind()), packed);
                }
                x = stream.forward(w, x, LinearInputObserver.NONE);
            }
        }
        return packed;
    }

    /** One forward of the whole layer, one CPU Hessian per group in {@code groups}. */
    private static Map<InputGroup.Kind, float[]> hessians(LayerStream stream, LayerWeights w, Activations x, List<InputGroup> groups) {
        Map<InputGroup.Kind, CpuHessian> acc = new LinkedHashMap<>();
        for (InputGroup g : groups) acc.put(g.kind(), new CpuHessian(g.inFeatures()));
        try {
            stream.forward(w, x, (group, input, lengths) -> {
                CpuHessian h = acc.get(group.kind());
                if (h != null) h.add(input, input.length / group.inFeatures(), group.inFeatures());
            });
            Map<InputGroup.Kind, float[]> out = new LinkedHashMap<>();
            acc.forEach((k, h) -> out.put(k, h.hessian()));
            return out;
        } finally {
            acc.values().forEach(CpuHessian::close);
        }
    }

    private static LayerWeights solve(GptqSolver solver, ZeroFormat format, LayerWeights w, InputGroup g, float[] h,
                                      Map<String, PackedLinear> packed) {
        for (LinearRef ref : g.linears()) {
            QuantizedLinear q = solver.quantize(ref.prefix(), w.linear(ref.role()).weight(), ref.outFeatures(), ref.inFeatures(), h);
            packed.put(ref.prefix(), q.pack(ref.prefix(), format));
            w = w.withWeight(ref.role(), q.dequantized());
        }
        return w;
    }
}
