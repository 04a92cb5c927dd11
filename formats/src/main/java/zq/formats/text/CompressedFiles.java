package zq.formats.text;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

import zq.formats.CheckpointException;

/**
 * Opens text files that may be compressed, chosen by extension: {@code .gz}, {@code .xz},
 * {@code .bz2}, {@code .zst} (or {@code .zstd}); concatenated streams are read to the end.
 * xz needs org.tukaani:xz and zstd needs com.github.luben:zstd-jni on the class path.
 */
public final class CompressedFiles {
    private CompressedFiles() {}

    /** The compressor name of the file's extension, or null for an uncompressed file. */
    static String compressorOf(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        if (n.endsWith(".gz")) return CompressorStreamFactory.GZIP;
        if (n.endsWith(".xz")) return CompressorStreamFactory.XZ;
        if (n.endsWith(".bz2")) return CompressorStreamFactory.BZIP2;
        if (n.endsWith(".zst") || n.endsWith(".zstd")) return CompressorStreamFactory.ZSTANDARD;
        return null;
    }

    /** The file name without its compression extension ({@code data.jsonl.gz} gives {@code data.jsonl}). */
    public static String withoutCompressionSuffix(String fileName) {
        return compressorOf(fileName) == null ? fileName : fileName.substring(0, fileName.lastIndexOf('.'));
    }

    /** An input stream of the file's decompressed bytes. */
    public static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        String compressor = compressorOf(file.getFileName().toString());
        if (compressor == null) return raw;
        try {
            return new CompressorStreamFactory(true).createCompressorInputStream(compressor, raw);
        } catch (CompressorException | LinkageError e) {
            raw.close();
            throw new CheckpointException(file + ": cannot open as " + compressor + ": " + e.getMessage(), e);
        }
    }

    /**
     * A read error as words. Decompressors end a truncated stream with an EOFException that often has no message
     * ("cannot read: null"), and a strict decoder reports bad UTF-8 as "Input length = 1"; neither says what is wrong.
     */
    public static String describe(IOException e) {
        if (e instanceof CharacterCodingException) return "not valid UTF-8 text";
        String m = e.getMessage();
        if (e instanceof EOFException || m == null || m.toLowerCase(Locale.ROOT).contains("end of")
                || m.toLowerCase(Locale.ROOT).contains("truncated")) {
            return "truncated: the data ends early (an incomplete download or copy?)" + (m == null ? "" : " (" + m + ")");
        }
        if (e instanceof FileSystemException f && f.getFile() != null && m.equals(f.getFile())) {
            return "cannot read (" + e.getClass().getSimpleName() + ")";
        }
        return "cannot read: " + m;
    }

    /** The decompressed file as UTF-8 text; a byte-order mark is dropped, invalid UTF-8 is an error. */
    public static String readString(Path file) {
        byte[] bytes;
        try (InputStream in = open(file)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new CheckpointException(file + ": " + describe(e), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file + ": not valid UTF-8 text (" + e.getMessage() + ")", e);
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }
}
