package zq.bench;

import org.junit.jupiter.api.Test;
import zq.cli.CliRun;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code zq bench NAME --help} for every benchmark, and bad arguments as one line and exit 2. */
class BenchMainTest {
    private static CliRun run(String... args) {
        return CliRun.run(BenchMain.commandLine(), args);
    }

    @Test void everyBenchmarkAnswersHelp() {
        Set<String> names = BenchMain.commandLine().getSubcommands().keySet();
        // the list the README documents; a benchmark added without a name here fails this test
        assertEquals(Set.of("help", "read", "tensor-decode", "tokenize", "runtime", "hessian", "quantize", "convert", "decode", "prefill"), names);
        for (String name : names) {
            if (name.equals("help")) continue;
            CliRun r = run(name, "--help");
            assertEquals(0, r.code(), name + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: zq bench " + name), name + ": " + r.out());
            assertTrue(r.out().contains("-h, --help"), name);
        }
    }

    @Test void badArgumentsAreOneLineAndExitTwo() {
        for (List<String> args : List.of(List.of("read", "lots"), List.of("hessian", "--tokens", "0"),
                List.of("quantize", "--hessian", "gpu", "--layers", "1"), List.of("nosuch"))) {
            CliRun r = run(args.toArray(String[]::new));
            assertEquals(2, r.code(), args + ": " + r.err());
            String first = r.err().lines().findFirst().orElse("");
            assertTrue(first.startsWith("zq bench: "), args + ": " + r.err());
            assertFalse(r.err().contains("\tat "), args + " printed a stack trace: " + r.err());
        }
    }
}
