package zq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.SyntheticModel;

/**
 * {@code zq quantize} as a child process, killed after its first layer is written. SIGTERM runs the output folder's
 * shutdown hook, which deletes the hidden ".OUT.partial-*" folder; SIGKILL runs nothing, so that folder may remain,
 * but the target name never appears and the leftover has no config.json, so no loader takes it for a model.
 */
class QuantizeInterruptTest {
    private static final int LAYERS = 8;

    @TempDir Path tmp;

    private Process start(Path model, Path out, Path calib) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), "-Xss16m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "quantize", model.toString(), "-o", out.toString(), "--calib", calib.toString(), "--nsamples", "8",
                "--seqlen", "64", "--group-size", "64", "--hessian", "cpu");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(tmp.resolve("stdout.txt").toFile());
        return pb.start();
    }

    /** Reads the child's stderr until layer 1 is done; fails if the child ends first. */
    private static List<String> awaitFirstLayer(Process p) throws Exception {
        List<String> lines = new ArrayList<>();
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        for (String line; (line = err.readLine()) != null; ) {
            lines.add(line);
            if (line.startsWith("zq: layer 1/" + LAYERS + " done")) return lines;
        }
        fail("zq quantize ended before its first layer was done (exit " + p.waitFor() + "):\n" + String.join("\n", lines));
        return lines;
    }

    private Path setUp() throws Exception {
        Path model = SyntheticModel.write(tmp.resolve("model"), SyntheticModel.config(Architecture.LLAMA, 128, 256, LAYERS, 4, 4, 128),
                DType.BF16, 9);
        String ids = IntStream.range(0, 4000).mapToObj(i -> Integer.toString((i * 37 + 11) % 128)).collect(Collectors.joining(" "));
        Files.writeString(tmp.resolve("calib.tokens"), ids);
        return model;
    }

    private List<String> siblings() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !List.of("model", "calib.tokens", "stdout.txt").contains(n))
                    .sorted().toList();
        }
    }

    @Test
    void sigtermLeavesNothingBehind() throws Exception {
        Path model = setUp();
        Path out = tmp.resolve("out");
        Process p = start(model, out, tmp.resolve("calib.tokens"));
        awaitFirstLayer(p);
        assertEquals(1, siblings().size(), "the hidden partial folder exists while the run is going: " + siblings());
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue(), "killed by SIGTERM mid-run, not finished");
        assertFalse(Files.exists(out));
        assertEquals(List.of(), siblings(), "the shutdown hook removed the partial folder");
    }

    /** Ctrl-C: the JVM runs its shutdown hooks for SIGINT as for SIGTERM. */
    @Test
    void sigintLeavesNothingBehind() throws Exception {
        Path model = setUp();
        Path out = tmp.resolve("out");
        Process p = start(model, out, tmp.resolve("calib.tokens"));
        awaitFirstLayer(p);
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(130, p.exitValue(), "killed by SIGINT mid-run, not finished");
        assertFalse(Files.exists(out));
        assertEquals(List.of(), siblings(), "the shutdown hook removed the partial folder");
    }

    @Test
    void sigkillLeavesNoFolderThatLooksComplete() throws Exception {
        Path model = setUp();
        Path out = tmp.resolve("out");
        Process p = start(model, out, tmp.resolve("calib.tokens"));
        awaitFirstLayer(p);
        p.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL mid-run, not finished");
        assertFalse(Files.exists(out));
        for (String name : siblings()) {
            assertTrue(name.startsWith(".out.partial-"), name);
            assertFalse(Files.exists(tmp.resolve(name).resolve("config.json")), name + " must not look like a model folder");
        }
    }
}
