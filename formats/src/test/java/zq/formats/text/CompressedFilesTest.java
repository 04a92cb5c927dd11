package zq.formats.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import com.github.luben.zstd.ZstdOutputStream;

import zq.formats.CheckpointException;
import zq.formats.tokenizer.ZhinaoTokenizer;

/** Each compression written by an independent encoder (JDK gzip, tukaani xz, commons bzip2, zstd-jni) and read back. */
class CompressedFilesTest {
    static final String TEXT = "{\"text\":\"中文 ab    x\"}\n{\"text\":\"second document\"}\n".repeat(50);
    static ZhinaoTokenizer tok;
    @TempDir Path dir;

    @BeforeAll
    static void load(@TempDir Path d) throws IOException { tok = TinyZhinao.create(d); }

    interface Compressor { OutputStream wrap(OutputStream out) throws IOException; }

    Path write(String name, Compressor c) throws IOException {
        Path f = dir.resolve(name);
        try (OutputStream out = c.wrap(Files.newOutputStream(f))) {
            out.write(TEXT.getBytes(StandardCharsets.UTF_8));
        }
        return f;
    }

    void check(Path f) throws IOException {
        assertEquals(TEXT, CompressedFiles.readString(f));
        assertTrue(Files.size(f) < TEXT.getBytes(StandardCharsets.UTF_8).length, "file should really be compressed");
        Path plain = dir.resolve("plain.jsonl");
        Files.writeString(plain, TEXT);
        assertArrayEquals(TextCorpus.load(plain, (String) null, tok).tokens(), TextCorpus.load(f, (String) null, tok).tokens());
    }

    @Test
    void gzip() throws IOException { check(write("a.jsonl.gz", GZIPOutputStream::new)); }

    @Test
    void xz() throws IOException { check(write("a.jsonl.xz", out -> new XZOutputStream(out, new LZMA2Options()))); }

    @Test
    void bzip2() throws IOException { check(write("a.jsonl.bz2", BZip2CompressorOutputStream::new)); }

    @Test
    void zstd() throws IOException { check(write("a.jsonl.zst", ZstdOutputStream::new)); }

    @Test
    void concatenatedGzipMembersAreAllRead() throws IOException {
        Path f = dir.resolve("two.txt.gz");
        try (OutputStream out = Files.newOutputStream(f)) {
            for (String part : new String[] {"first ", "second"}) {
                GZIPOutputStream gz = new GZIPOutputStream(out);
                gz.write(part.getBytes(StandardCharsets.UTF_8));
                gz.finish();
            }
        }
        assertEquals("first second", CompressedFiles.readString(f));
    }

    @Test
    void corruptFileIsReported() throws IOException {
        Path f = dir.resolve("broken.txt.xz");
        Files.writeString(f, "this is not xz");
        CheckpointException e = assertThrows(CheckpointException.class, () -> CompressedFiles.readString(f));
        assertTrue(e.getMessage().contains("broken.txt.xz"), e.getMessage());
    }
}
