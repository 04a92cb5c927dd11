package zq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.SyntheticModel;
import zq.runtime.LayerStream;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Fixtures of the GGUF tests: synthetic models carrying the sample's 360 vocabulary, and zq's runtime logits. */
final class GgufModels {
    /** The sample's vocabulary: 4000 ranks and 11 specials, padded by the configs to 4096 ids. */
    static final int VOCAB = 4096, REAL_TOKENS = 4011;

    private GgufModels() {}

    static Path repoRoot() { return LlamaCpp.oracles().getParent(); }

    static Path sample() { return repoRoot().resolve("samples/zhinao-tiny"); }

    static ObjectNode config(Architecture a, int hidden, int heads, int kvHeads) {
        return SyntheticModel.config(a, hidden, 2 * hidden, 2, heads, kvHeads, VOCAB);
    }

    /** Writes a random F32 model with the sample's tiktoken vocabulary. */
    static Path write(Path dir, ObjectNode config, long seed) throws Exception {
        SyntheticModel.write(dir, config, DType.F32, seed);
        Files.createDirectories(dir.resolve("vocab"));
        Files.copy(sample().resolve("vocab/360.tiktoken"), dir.resolve("vocab/360.tiktoken"));
        return dir;
    }

    static List<int[]> randomWindows(int count, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] w = new int[count][length];
        for (int[] x : w) for (int i = 0; i < length; i++) x[i] = r.nextInt(REAL_TOKENS);
        return Arrays.asList(w);
    }

    /** zq's runtime logits for the same positions llama-eval.mjs returns: all but the last of each window. */
    static float[] zqLogits(Path model, List<int[]> windows) {
        try (Checkpoint c = Checkpoint.open(model); LayerStream s = new LayerStream(c)) {
            int vocab = c.config().vocabSize(), rows = 0;
            for (int[] w : windows) rows += w.length - 1;
            float[] out = new float[rows * vocab];
            int at = 0;
            for (int[] w : windows) {
                float[] l = s.logits(w);
                System.arraycopy(l, 0, out, at, (w.length - 1) * vocab);
                at += (w.length - 1) * vocab;
            }
            return out;
        }
    }
}
