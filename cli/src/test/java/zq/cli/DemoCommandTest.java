package zq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {

    /**
     * `zq demo` is the first command a fresh checkout runs, and there its --out folder (demo-out) does not exist yet:
     * it must be created, not refused. Round-to-nearest keeps the test quick; the path is the same for GPTQ.
     */
    @Test
    void aFreshOutputFolderIsCreated(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("fresh").resolve("demo-out");
        CliRun r = zq("demo", "--out", out.toString(), "--method", "rtn", "--no-desc-act",
                "--sample", "../samples/zhinao-tiny", "--eval", "../samples/data/eval.txt", "--calib", "../samples/data/calib-conversations.json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("PASS"), r.out());
        Path model = out.resolve("zhinao-tiny-rtn-g128");
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")), "the quantized model is in " + model);
        assertTrue(Files.isRegularFile(out.resolve("zhinao-tiny-rtn-g128.report.json")), "the report is beside it");
    }
}
