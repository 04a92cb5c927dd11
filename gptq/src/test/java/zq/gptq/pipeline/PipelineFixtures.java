package zq.gptq.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.gptq.GptqConfig;
import zq.gptq.QuantizedLinear;
import zq.gptq.hessian.HessianBackend;

/** Tiny synthetic models, calibration windows and option sets shared by the pipeline and export tests. */
public final class PipelineFixtures {
    public static final int VOCAB = 96;

    private PipelineFixtures() {}

    /** hidden 64, intermediate 128, 4 heads (2 KV), head_dim 16: q/o 64 wide, k/v 32, gate/up 128, down in 128. */
    public static ObjectNode config(Architecture arch, int layers) {
        return SyntheticModel.config(arch, 64, 128, layers, 4, 2, VOCAB);
    }

    public static Path model(Path dir, Architecture arch, int layers, long seed) throws IOException {
        return SyntheticModel.write(dir, config(arch, layers), DType.BF16, seed);
    }

    /** Windows of seeded random tokens: the same seed gives the same windows. */
    public static List<int[]> randomWindows(int count, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> w = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] t = new int[length];
            for (int j = 0; j < length; j++) t[j] = r.nextInt(VOCAB);
            w.add(t);
        }
        return w;
    }

    /** 8 windows of 32 random tokens. */
    public static Calibration calibration() {
        return new Calibration("random tokens", 32, 0, randomWindows(8, 32, 99));
    }

    public static GptqConfig gptq(int groupSize, boolean descAct, boolean sym) {
        return new GptqConfig(4, groupSize, descAct, sym, false, GptqConfig.DEFAULT_DAMP_PERCENT, GptqConfig.DEFAULT_BLOCK_SIZE, false);
    }

    public static PipelineOptions options(QuantizeMethod method, GptqConfig config, boolean trueSequential) {
        return new PipelineOptions(method, config, trueSequential, HessianBackend.CPU);
    }

    /** Keeps every quantised Linear as the solver returned it, by prefix. */
    public static final class Capture implements ProgressListener {
        public final Map<String, QuantizedLinear> linears = new LinkedHashMap<>();
        public final List<ModuleReport> modules = new ArrayList<>();

        @Override public void moduleDone(ModuleReport module, QuantizedLinear result, Progress progress) {
            linears.put(module.name(), result);
            modules.add(module);
        }
    }
}
