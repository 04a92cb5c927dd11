package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.CheckpointException;
import zq.formats.HfJson;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;

/**
 * A {@code --report FILE} that can neither destroy an input nor leave a half-written file. Everything that can be
 * checked is checked before the command does any work: the path is not an input file, not inside an input folder or
 * the output folder, its folder exists, and a file already there is a zq report (only those are replaced). The report
 * is written to a hidden sibling and renamed over the final name, so a full disk leaves the old report or none.
 */
final class ReportFile {
    /** The first key of every report zq writes; an existing file is replaced only if it carries it. */
    static final String MARKER = "zq_report";

    private final Path path;
    private final String kind;

    private ReportFile(Path path, String kind) {
        this.path = path;
        this.kind = kind;
    }

    /**
     * Checks {@code report} against the command's inputs (files or folders) and its output folder.
     *
     * @param kind the command that writes it (the marker's value), e.g. "quantize"
     */
    static ReportFile check(Path report, String kind, Path output, List<Path> inputs) {
        Path abs = canonical(report);
        if (abs.startsWith(canonical(output))) {
            throw new CheckpointException("--report " + report + ": must not be inside the output folder " + output);
        }
        for (Path in : inputs) {
            if (in == null) continue;
            Path i = canonical(in);
            if (abs.equals(i)) throw new CheckpointException("--report " + report + ": is an input of this command; name a new file");
            if (Files.isDirectory(i) && abs.startsWith(i)) {
                throw new CheckpointException("--report " + report + ": is inside the input folder " + in + "; write it elsewhere");
            }
        }
        Path parent = abs.getParent();
        if (!Files.isDirectory(parent)) throw new CheckpointException("--report " + report + ": folder " + parent + " does not exist");
        if (Files.isDirectory(abs)) throw new CheckpointException("--report " + report + ": is a folder; name a file");
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !isZqReport(abs)) {
            throw new CheckpointException("--report " + report + ": exists and is not a zq report; zq replaces only its own reports");
        }
        if (!Files.isWritable(parent)) throw new CheckpointException("--report " + report + ": folder " + parent + " is not writable");
        return new ReportFile(abs, kind);
    }

    /** The real path where the file exists, or its folder's real path plus its name (so links cannot hide an input). */
    private static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs)) return abs.toRealPath();
            Path parent = abs.getParent();
            if (parent != null && Files.exists(parent)) return parent.toRealPath().resolve(abs.getFileName());
        } catch (IOException e) {
            // fall back to the lexical path: the checks below then compare what the user typed
        }
        return abs;
    }

    /** Whether the file is a JSON object that zq wrote as a report (the marker, or the module list of older versions). */
    static boolean isZqReport(Path file) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return false;
        try {
            if (Files.size(file) > 256L << 20) return false;
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            return n != null && n.isObject() && (n.has(MARKER) || (n.has("module_reports") && n.has("output")));
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes {@code body} with the marker as its first key: to a hidden sibling first, then renamed into place. */
    void write(ObjectNode body) throws IOException {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put(MARKER, kind);
        json.setAll(body);
        Path temp = path.resolveSibling("." + path.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.writeString(temp, HfJson.pretty(json), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException notOurs) {
                // something else is at the temporary name; leave it, the error below says what failed
            }
            throw new IOException(path + ": cannot write the report: " + Objects.requireNonNullElse(e.getMessage(), e.toString()), e);
        }
    }

    Path path() { return path; }
}
