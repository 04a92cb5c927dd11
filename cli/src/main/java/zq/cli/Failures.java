package zq.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import zq.formats.CheckpointException;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/**
 * What {@code zq} prints and returns when a command fails: one line on stderr, never a stack trace, and an exit code
 * that a script can act on. {@link #EXIT_GATE_FAILED} is reserved for a quality verdict, so neither a crash nor bad
 * input is ever read as one.
 */
final class Failures {
    /** A quality gate (a threshold of validate, demo) failed. */
    static final int EXIT_GATE_FAILED = 1;
    /** Bad input (files, tensors, options) or a resource problem (memory, disk). */
    static final int EXIT_BAD_INPUT = 2;
    /** A bug in zq: an exception no reader or command turned into a message. */
    static final int EXIT_INTERNAL = 3;

    /** Set to print the stack trace of an internal error as well. */
    static final String DEBUG_ENV = "ZQ_DEBUG";

    private Failures() {}

    /** The exit code for {@code t}. */
    static int exitCode(Throwable t) {
        if (outOfMemory(t) != null) return EXIT_BAD_INPUT;
        return isBadInput(t) ? EXIT_BAD_INPUT : EXIT_INTERNAL;
    }

    static boolean isBadInput(Throwable t) {
        return t instanceof CheckpointException || t instanceof IllegalArgumentException || t instanceof IOException
                || t instanceof UncheckedIOException;
    }

    /** The one line printed for {@code t} (without the "zq: " prefix). */
    static String message(Throwable t) {
        OutOfMemoryError oom = outOfMemory(t);
        if (oom != null) return outOfMemoryMessage(oom, Runtime.getRuntime());
        if (!isBadInput(t)) {
            return "internal error (a bug in zq; set " + DEBUG_ENV + "=1 for the stack trace): " + t.getClass().getName()
                    + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage()));
        }
        Throwable io = t instanceof UncheckedIOException && t.getCause() != null ? t.getCause() : t;
        return oneLine(describe(io));
    }

    /** The error itself, or the out-of-memory error among its causes (worker threads wrap it). */
    static OutOfMemoryError outOfMemory(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError oom) return oom;
            if (c.getCause() == c) break;
        }
        return null;
    }

    /** How much heap there was, how much was in use, and how to give more. */
    static String outOfMemoryMessage(OutOfMemoryError e, Runtime rt) {
        long maxMiB = rt.maxMemory() >> 20;
        long usedMiB = (rt.totalMemory() - rt.freeMemory()) >> 20;
        String what = e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
        long suggestion = Math.max(1024, Long.highestOneBit(Math.max(1, maxMiB)) << 2);
        return String.format(Locale.ROOT, "out of memory%s: the Java heap limit is %d MiB (%d MiB still in use after the failure); "
                + "give more with ZQ_JAVA_OPTS=-Xmx%dm (or -Xmx%dg)", what, maxMiB, usedMiB, suggestion, Math.max(1, suggestion / 1024));
    }

    /** File-system errors carry only a path as their message; say what happened to it. */
    private static String describe(Throwable t) {
        if (t instanceof FileSystemException f && f.getFile() != null) {
            String file = f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
            String reason = f.getReason() == null ? "" : " (" + f.getReason() + ")";
            if (t instanceof NoSuchFileException) return file + ": no such file or folder" + reason;
            if (t instanceof AccessDeniedException) return file + ": permission denied" + reason;
            if (t instanceof FileAlreadyExistsException) return file + ": already exists" + reason;
            if (t instanceof DirectoryNotEmptyException) return file + ": folder is not empty" + reason;
            if (t instanceof NotDirectoryException) return file + ": not a folder" + reason;
            return file + ": " + (f.getReason() == null ? t.getClass().getSimpleName() : f.getReason());
        }
        if (t instanceof JsonProcessingException j) {
            return "not valid JSON: " + j.getOriginalMessage()
                    + (j.getLocation() == null ? "" : " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr());
        }
        if (t instanceof EOFException && t.getMessage() == null) return "unexpected end of file (truncated?)";
        if (t instanceof CharacterCodingException && !(t.getMessage() != null && t.getMessage().contains(" "))) {
            return "not valid UTF-8 text";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** The message on one line, without the "java.lang.SomeException: " prefixes that wrapping adds. */
    static String oneLine(String message) {
        return firstLine(message.replaceAll("\\b(java|javax)\\.[\\w.$]+(Exception|Error): ", "").strip());
    }

    private static String firstLine(String s) {
        // Jackson appends "\n at [Source: ...]" and picocli-style messages may wrap; the rest adds nothing a user needs
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
