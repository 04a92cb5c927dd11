package zq.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.ModelConfig;
import zq.formats.SyntheticModel;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static zq.cli.CliRun.zq;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertCommandTest {
    @TempDir Path tmp;

    private Path zhinao() throws Exception {
        return SyntheticModel.write(tmp.resolve("z"), SyntheticModel.config(Architecture.ZHINAO, 64, 128, 2, 8, 2, 50), DType.BF16, 4);
    }

    @Test void convertsWithEveryOptionInOnePass() throws Exception {
        Path in = zhinao();
        Path out = tmp.resolve("q");
        CliRun r = zq("convert", in.toString(), "-o", out.toString(), "--rope-base", "1e6", "--max-position-embeddings", "32768",
                "--rope-scaling", "yarn:factor=2,original_max_position_embeddings=16384", "--dtype", "f16", "--to", "qwen2",
                "--max-shard-size", "30KB");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out.toAbsolutePath()), r.out());
        try (Checkpoint c = Checkpoint.open(out)) {
            ModelConfig cfg = c.config();
            assertEquals(Architecture.QWEN2, cfg.architecture());
            assertEquals(1e6, cfg.ropeTheta());
            assertEquals(32768, cfg.maxPositionEmbeddings());
            assertEquals("yarn", cfg.ropeScaling().type());
            assertEquals("float16", cfg.torchDtype());
            assertEquals(DType.F16, c.info("model.layers.0.self_attn.q_proj.weight").dtype());
            assertTrue(c.files().size() > 1);
        }
    }

    static void assertBadInput(CliRun r, String message) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().startsWith("zq: ") && r.err().contains(message), r.err());
    }

    @Test void badInputIsOneLineAndExitTwo() throws Exception {
        Path in = zhinao();
        String o = tmp.resolve("o").toString();
        assertBadInput(zq("convert", in.toString(), "-o", o, "--dtype", "f8"), "unknown dtype 'f8' (expected bf16, f16 or f32)");
        assertBadInput(zq("convert", in.toString(), "-o", o, "--rope-scaling", "llama3:factor=8"), "llama3 requires 'low_freq_factor'");
        assertBadInput(zq("convert", in.toString(), "-o", o, "--to", "zhinao"), "--to zhinao converts Qwen2 checkpoints");
        assertBadInput(zq("convert", in.toString(), "-o", o, "--to", "gpt2"), "--to 'gpt2' is not an architecture");
        assertBadInput(zq("convert", in.toString(), "-o", o, "--max-shard-size", "big"), "--max-shard-size 'big' is not a size");
        assertBadInput(zq("convert", in.toString(), "-o", in.toString()), "output folder already exists");
        assertBadInput(zq("convert", tmp.resolve("missing").toString(), "-o", o), "not a model folder");
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
