package zq.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code zq} (or another command line, e.g. {@code zq bench}) in-process with captured stdout and stderr. */
public record CliRun(int code, String out, String err) {

    static CliRun zq(String... args) {
        return run(Main.commandLine(), args);
    }

    public static CliRun run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
