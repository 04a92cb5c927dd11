package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticModelTest {
    @TempDir Path tmp;

    @Test void zhinaoGqaCheckpointOpensWithHandCountedParameters() throws Exception {
        // hidden 64, 8 heads of 8, 2 KV heads, intermediate 128, 2 layers, vocab 100
        var cfg = SyntheticModel.config(Architecture.ZHINAO, 64, 128, 2, 8, 2, 100);
        Path dir = SyntheticModel.write(tmp.resolve("m"), cfg, DType.BF16, 1);
        try (Checkpoint c = Checkpoint.open(dir)) {
            long params = 0;
            for (String n : c.tensorNames()) params += c.info(n).numel();
            // per layer: qkv (64+2*16)*64 + bias 96, o 64*64, gate/up/down 3*128*64, two norms 2*64
            long perLayer = 96 * 64 + 96 + 64 * 64 + 3 * 128 * 64 + 2 * 64;
            assertEquals(2 * perLayer + 100 * 64 * 2 + 64, params);
            assertEquals(96, c.info("model.layers.1.self_attn.qkv_proj.bias").numel());
            assertTrue(c.layout().layers().get(0).fusedQkv());
            assertEquals("pt", c.files().get(0).metadata().get("format"));
        }
        try (var s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains("partial")), "no temporary folder left");
        }
    }

    @Test void shardedWriteIsFoundThroughTheIndex() throws Exception {
        var cfg = SyntheticModel.config(Architecture.QWEN2, 32, 64, 2, 4, 4, 50);
        cfg.put("tie_word_embeddings", true);
        Path dir = SyntheticModel.write(tmp.resolve("s"), cfg, DType.F16, 2, 20_000);
        assertTrue(Files.exists(dir.resolve(ShardedWriter.INDEX_FILE)));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertTrue(c.files().size() > 1);
            assertEquals(ModelLayout.EMBED, c.layout().outputProjection());
            assertEquals(DType.F16, c.info("model.norm.weight").dtype());
        }
    }
}
