package zq.convert;

import zq.formats.gptq.GptqPart;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.LayerLayout;
import zq.formats.LinearRef;
import zq.formats.ModelConfig;
import zq.formats.ModelLayout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Decides the output tensors of a conversion, in input order: every tensor is carried over whole,
 * except that a change of architecture replaces Zhinao's fused qkv_proj tensors by q/k/v_proj
 * (or the reverse) at the position of the tensors they come from. Rotary caches are dropped: they
 * hold the old RoPE base, and loaders recompute them.
 */
final class TensorPlanner {
    private TensorPlanner() {}

    /** A tensor kind of a Linear and the index of its output dimension. */
    private record Part(Function<LinearRef, String> name, int outputDim) {}

    private static final List<Part> DENSE_PARTS = List.of(new Part(LinearRef::weight, 0), new Part(LinearRef::bias, 0));
    private static final List<Part> GPTQ_PARTS = List.of(new Part(LinearRef::qweight, 1), new Part(LinearRef::qzeros, 1),
            new Part(LinearRef::scales, 1), new Part(LinearRef::bias, 0));

    static List<PlannedTensor> plan(Checkpoint in, ModelConfig out) {
        ModelConfig src = in.config();
        Set<String> fixed = gptqLinearTensors(in.layout());
        // input tensor name -> the output tensors emitted in its place (empty: emitted with another)
        Map<String, List<PlannedTensor>> replaced = new LinkedHashMap<>();
        if (src.architecture() != out.architecture()) {
            if (src.architecture() == Architecture.ZHINAO && out.architecture() == Architecture.QWEN2) {
                splitQkv(in, ModelLayout.of(out), fixed, replaced);
            } else if (src.architecture() == Architecture.QWEN2 && out.architecture() == Architecture.ZHINAO) {
                mergeQkv(in, ModelLayout.of(out), fixed, replaced);
            } else {
                throw new IllegalArgumentException("cannot convert " + src.architecture().modelType() + " to "
                        + out.architecture().modelType());
            }
        }
        List<PlannedTensor> plan = new ArrayList<>();
        Set<String> emitted = new HashSet<>();
        for (String name : in.tensorNames()) {
            if (Checkpoint.isRotaryCache(name)) continue;
            List<PlannedTensor> r = replaced.get(name);
            if (r == null) {
                TensorRef t = TensorRef.of(in, name);
                plan.add(new PlannedTensor(name, t.info().shape(), Gather.whole(t), fixed.contains(name)));
            } else {
                for (PlannedTensor p : r) if (emitted.add(p.name())) plan.add(p);
            }
        }
        return plan;
    }

    private static Set<String> gptqLinearTensors(ModelLayout layout) {
        Set<String> s = new HashSet<>();
        if (!layout.config().isQuantized()) return s;
        for (LayerLayout l : layout.layers()) {
            for (LinearRef lin : l.linears()) {
                for (GptqPart p : GptqPart.values()) s.add(lin.part(p));
                if (lin.hasBias()) s.add(lin.bias());
            }
        }
        return s;
    }

    private static List<Part> parts(ModelConfig c) {
        if (c.isQuantized() && c.headDim() % 8 != 0) {
            throw new CheckpointException(c.source() + ": head size " + c.headDim() + " is not a multiple of 8; GPTQ qzeros pack"
                    + " 8 output columns per int32, so attention heads cannot be split or fused without repacking");
        }
        return c.isQuantized() ? GPTQ_PARTS : DENSE_PARTS;
    }

    private static void splitQkv(Checkpoint in, ModelLayout out, Set<String> fixed, Map<String, List<PlannedTensor>> replaced) {
        List<Part> parts = parts(in.config());
        QkvRegrouping qkv = new QkvRegrouping(in.config());
        for (int i = 0; i < in.layout().layers().size(); i++) {
            LinearRef fused = in.layout().layers().get(i).attention().get(0);
            List<LinearRef> qkvOut = out.layers().get(i).attention();
            for (Part part : parts) {
                TensorRef t = TensorRef.of(in, part.name.apply(fused));
                List<Gather> g = qkv.split(t, part.outputDim);
                List<long[]> shapes = qkv.splitShapes(t.info().shape(), part.outputDim);
                List<PlannedTensor> three = new ArrayList<>();
                for (int j = 0; j < 3; j++) {
                    three.add(new PlannedTensor(part.name.apply(qkvOut.get(j)), shapes.get(j), g.get(j), fixed.contains(t.name())));
                }
                replaced.put(t.name(), three);
            }
            if (in.config().isQuantized()) {
                TensorRef gIdx = TensorRef.of(in, fused.gIdx());
                List<PlannedTensor> three = new ArrayList<>();
                for (LinearRef l : qkvOut) three.add(new PlannedTensor(l.gIdx(), gIdx.info().shape(), Gather.whole(gIdx), true));
                replaced.put(gIdx.name(), three);
            }
        }
    }

    private static void mergeQkv(Checkpoint in, ModelLayout out, Set<String> fixed, Map<String, List<PlannedTensor>> replaced) {
        List<Part> parts = parts(in.config());
        QkvRegrouping qkv = new QkvRegrouping(in.config());
        for (int i = 0; i < in.layout().layers().size(); i++) {
            List<LinearRef> sep = in.layout().layers().get(i).attention();
            LinearRef fused = out.layers().get(i).attention().get(0);
            for (Part part : parts) {
                TensorRef q = TensorRef.of(in, part.name.apply(sep.get(0)));
                TensorRef k = TensorRef.of(in, part.name.apply(sep.get(1)));
                TensorRef v = TensorRef.of(in, part.name.apply(sep.get(2)));
                PlannedTensor merged = new PlannedTensor(part.name.apply(fused), qkv.mergedShape(q.info().shape(), part.outputDim),
                        qkv.merge(q, k, v, part.outputDim), fixed.contains(q.name()));
                replaced.put(q.name(), List.of(merged));
                replaced.put(k.name(), List.of(merged));
                replaced.put(v.name(), List.of(merged));
            }
            if (in.config().isQuantized()) {
                TensorRef q = TensorRef.of(in, sep.get(0).gIdx());
                for (LinearRef other : sep.subList(1, 3)) requireSameBytes(q, TensorRef.of(in, other.gIdx()));
                PlannedTensor merged = new PlannedTensor(fused.gIdx(), q.info().shape(), Gather.whole(q), true);
                for (LinearRef l : sep) replaced.put(l.gIdx(), List.of(merged));
            }
        }
    }

    /** One fused Linear has one g_idx, so q, k and v must have been quantized with the same one. */
    private static void requireSameBytes(TensorRef a, TensorRef b) {
        ByteBuffer x = a.file().map(a.info()), y = b.file().map(b.info());
        if (!x.equals(y)) {
            throw new CheckpointException(b.describe() + " differs from " + a.name() + "; a fused qkv_proj has a single g_idx,"
                    + " so projections quantized with different act-order permutations cannot be fused");
        }
    }
}
