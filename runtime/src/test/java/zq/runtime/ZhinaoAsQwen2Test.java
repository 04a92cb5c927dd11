package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.runtime.fixtures.Fixtures;
import zq.runtime.fixtures.Fixtures.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Zhinao checkpoint and the same weights in Qwen2 layout, the fused qkv_proj de-interleaved here by
 * hand (per KV group g: q heads gG..gG+G−1, then k_g, then v_g; docs/formats.md, "Fused qkv_proj"), give the same logits.
 */
class ZhinaoAsQwen2Test {
    @TempDir Path tmp;

    @ParameterizedTest(name = "heads {0}, kv heads {1}")
    @CsvSource({"4, 2", "4, 4", "4, 1"})
    void deInterleavedCopyGivesTheSameLogits(int heads, int kvHeads) throws Exception {
        int hidden = 64, hd = hidden / heads, layers = 2;
        ObjectNode cfg = Fixtures.config(Architecture.ZHINAO, hidden, 96, layers, heads, kvHeads, 90);
        Path zhinao = Fixtures.synthetic(tmp.resolve("zhinao"), cfg, DType.BF16, 5);

        Map<String, Tensor> src = Fixtures.readAll(zhinao), qwen = new LinkedHashMap<>();
        int g = heads / kvHeads;
        for (Map.Entry<String, Tensor> e : src.entrySet()) {
            String name = e.getKey();
            if (!name.contains("qkv_proj")) {
                qwen.put(name, e.getValue());
                continue;
            }
            boolean bias = name.endsWith(".bias");
            int cols = bias ? 1 : hidden;
            float[] fused = e.getValue().floats();
            float[] q = new float[heads * hd * cols], k = new float[kvHeads * hd * cols], v = new float[kvHeads * hd * cols];
            for (int group = 0; group < kvHeads; group++) {
                int block = group * (g + 2) * hd * cols; // start of this KV group's rows
                for (int j = 0; j < g; j++) {
                    System.arraycopy(fused, block + j * hd * cols, q, (group * g + j) * hd * cols, hd * cols);
                }
                System.arraycopy(fused, block + g * hd * cols, k, group * hd * cols, hd * cols);
                System.arraycopy(fused, block + (g + 1) * hd * cols, v, group * hd * cols, hd * cols);
            }
            String prefix = name.substring(0, name.indexOf("qkv_proj"));
            String suffix = bias ? ".bias" : ".weight";
            qwen.put(prefix + "q_proj" + suffix, bias ? Tensor.f32(q, heads * hd) : Tensor.f32(q, heads * hd, hidden));
            qwen.put(prefix + "k_proj" + suffix, bias ? Tensor.f32(k, kvHeads * hd) : Tensor.f32(k, kvHeads * hd, hidden));
            qwen.put(prefix + "v_proj" + suffix, bias ? Tensor.f32(v, kvHeads * hd) : Tensor.f32(v, kvHeads * hd, hidden));
        }
        ObjectNode qcfg = cfg.deepCopy();
        qcfg.put("model_type", "qwen2");
        qcfg.putArray("architectures").add("Qwen2ForCausalLM");
        Path qwen2 = Fixtures.write(tmp.resolve("qwen2"), qcfg, qwen);

        int[] tokens = Fixtures.randomTokens(14, 90, 8);
        try (Checkpoint a = Checkpoint.open(zhinao); Checkpoint b = Checkpoint.open(qwen2);
             LayerStream sa = new LayerStream(a); LayerStream sb = new LayerStream(b)) {
            assertEquals(Architecture.QWEN2, b.config().architecture());
            float[] la = sa.logits(tokens), lb = sb.logits(tokens);
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < la.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(la[i] - lb[i]));
                maxAbs = Math.max(maxAbs, Math.abs(la[i]));
            }
            // both layouts are regrouped into the same [Q;K;V] product, so the logits are bit-identical
            assertEquals(0.0, maxDiff, "max |Δlogit| (max |logit| " + maxAbs + ")");
        }
    }
}
