package zq.gptq.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.LinearRef;
import zq.gptq.GptqConfig;
import zq.gptq.GptqSolver;
import zq.gptq.QuantizedLinear;
import zq.gptq.hessian.CpuHessian;
import zq.runtime.Activations;
import zq.runtime.InputGroup;
import zq.runtime.LayerStream;
import zq.runtime.LayerWeights;
import zq.runtime.LinearInputObserver;

/**
 * Which activations feed which Hessian. The expected codes are rebuilt here from the runtime and the solver, with the
 * weights swapped by hand: o_proj must be solved on the inputs of the layer whose q/k/v are already quantised, and
 * layer 1 on the outputs of the fully quantised layer 0 — or, without true-sequential, o_proj on the unquantised layer.
 * Each expectation is also shown to differ from the alternative, so the test can tell the two apart.
 */
class TrueSequentialTest {
    @TempDir Path tmp;

    private static final GptqConfig CONFIG = PipelineFixtures.gptq(32, false, true);

    private static Map<String, QuantizedLinear> run(Checkpoint ck, boolean trueSequential) {
        PipelineFixtures.Capture capture = new PipelineFixtures.Capture();
        List<QuantizedLayer> layers = new ArrayList<>();
        try (QuantizationPipeline p = new QuantizationPipeline(ck, PipelineFixtures.options(QuantizeMethod.GPTQ, CONFIG, trueSequential),
                PipelineFixtures.calibration(), capture, new PhaseTimes())) {
            while (p.hasNext()) layers.add(p.next());
        }
        assertEquals(List.of(0, 1), layers.stream().map(QuantizedLayer::index).toList());
        return capture.linears;
    }

    /** The Hessian of one input kind, from one forward of {@code w} over {@code x}, accumulated as the pipeline does. */
    private static float[] hessian(LayerStream stream, LayerWeights w, Activations x, InputGroup.Kind kind, int features) {
        try (CpuHessian h = new CpuHessian(features)) {
            LinearInputObserver observer = (group, input, lengths) -> {
                if (group.kind() == kind) h.add(input, input.length / features, features);
            };
            stream.forward(w, x, observer);
            return h.hessian();
        }
    }

    private static LayerWeights withQuantized(LayerWeights w, List<LinearRef> refs, Map<String, QuantizedLinear> q) {
        for (LinearRef ref : refs) w = w.withWeight(ref.role(), q.get(ref.prefix()).dequantized());
        return w;
    }

    private static byte[] solve(LayerWeights w, LinearRef ref, float[] h) {
        return new GptqSolver(CONFIG).quantize(ref.prefix(), w.linear(ref.role()).weight(), ref.outFeatures(), ref.inFeatures(), h).codes();
    }

    @Test
    void laterGroupsAndLayersSeeQuantizedOutputs() throws Exception {
        Path in = PipelineFixtures.model(tmp.resolve("in"), Architecture.LLAMA, 2, 41);
        try (Checkpoint ck = Checkpoint.open(in); LayerStream stream = new LayerStream(ck)) {
            Map<String, QuantizedLinear> seq = run(ck, true);
            Map<String, QuantizedLinear> flat = run(ck, false);
            Activations x0 = stream.embed(PipelineFixtures.calibration().windows());
            var l0 = ck.layout().layers().get(0);
            var l1 = ck.layout().layers().get(1);
            LayerWeights dense0 = stream.loadLayer(0);

            // layer 0, o_proj: true-sequential takes its Hessian after q/k/v were replaced
            LayerWeights qkvQuantized = withQuantized(dense0, l0.attention(), seq);
            byte[] oSeq = solve(dense0, l0.o(), hessian(stream, qkvQuantized, x0, InputGroup.Kind.OUTPUT, l0.o().inFeatures()));
            byte[] oDense = solve(dense0, l0.o(), hessian(stream, dense0, x0, InputGroup.Kind.OUTPUT, l0.o().inFeatures()));
            assertArrayEquals(oSeq, seq.get(l0.o().prefix()).codes(), "true-sequential o_proj");
            assertArrayEquals(oDense, flat.get(l0.o().prefix()).codes(), "o_proj without true-sequential");
            assertFalse(Arrays.equals(oSeq, oDense), "the two Hessians must lead to different codes for the test to mean anything");

            // layer 1, q_proj: its inputs are the outputs of the fully quantised layer 0
            LayerWeights allQuantized = withQuantized(dense0, l0.linears(), seq);
            Activations x1Quantized = stream.forward(allQuantized, x0, LinearInputObserver.NONE);
            Activations x1Dense = stream.forward(dense0, x0, LinearInputObserver.NONE);
            LayerWeights dense1 = stream.loadLayer(1);
            LinearRef q1 = l1.attention().get(0);
            byte[] qFromQuantized = solve(dense1, q1, hessian(stream, dense1, x1Quantized, InputGroup.Kind.ATTENTION, q1.inFeatures()));
            byte[] qFromDense = solve(dense1, q1, hessian(stream, dense1, x1Dense, InputGroup.Kind.ATTENTION, q1.inFeatures()));
            assertArrayEquals(qFromQuantized, seq.get(q1.prefix()).codes(), "layer 1 reads quantised layer-0 outputs");
            assertFalse(Arrays.equals(qFromQuantized, qFromDense));
        }
    }

    @Test
    void gptqWithoutCalibrationIsRefused() throws Exception {
        Path in = PipelineFixtures.model(tmp.resolve("in"), Architecture.LLAMA, 1, 41);
        try (Checkpoint ck = Checkpoint.open(in)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new QuantizationPipeline(ck,
                    PipelineFixtures.options(QuantizeMethod.GPTQ, CONFIG, true), null, ProgressListener.NONE, new PhaseTimes()));
            assertTrue(e.getMessage().contains("--calib"), e.getMessage());
        }
    }
}
