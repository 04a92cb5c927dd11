package zq.formats.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.CheckpointException;
import zq.formats.TensorData;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GGUF reader on hand-assembled files (gguf.h's layout), and the writer's plan checks and partial-file rule. */
class GgufFileTest {
    @TempDir Path tmp;

    /** Little-endian GGUF bytes assembled field by field. */
    static final class Bytes {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u32(long v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array()); }

        Bytes u64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }

        Bytes f32(float v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array()); }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        Bytes raw(byte[] b) { out.writeBytes(b); return this; }

        Bytes padTo(int alignment) {
            while (out.size() % alignment != 0) out.write(0);
            return this;
        }

        Path write(Path p) throws Exception { return Files.write(p, out.toByteArray()); }
    }

    /** GGUF v3, one uint32 key, one F32 tensor "w" of dims [4, 2] at {@code offset}, data of {@code dataFloats} values. */
    private static Bytes file(long magic, long version, long typeId, long offset, int dataFloats, String key2) {
        Bytes b = new Bytes().u32(magic).u32(version).u64(1).u64(key2 == null ? 1 : 2);
        b.str("general.file_type").u32(GgufValueType.UINT32.id()).u32(0);
        if (key2 != null) b.str(key2).u32(GgufValueType.UINT32.id()).u32(0);
        b.str("w").u32(2).u64(4).u64(2).u32(typeId).u64(offset);
        b.padTo(32);
        for (int i = 0; i < dataFloats; i++) b.f32(i);
        return b;
    }

    private String error(Bytes b) throws Exception {
        Path p = b.write(tmp.resolve("bad.gguf"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aHandAssembledFileReads() throws Exception {
        Path p = file(Gguf.MAGIC, 3, 0, 0, 8, null).write(tmp.resolve("ok.gguf"));
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(0L, g.require("general.file_type").asLong());
            GgufTensorInfo t = g.tensor("w");
            assertArrayEquals(new long[] {4, 2}, t.dims());
            assertEquals(32, t.byteSize());
            assertArrayEquals(new float[] {4, 5, 6, 7}, g.rows("w", 1, 1));
        }
    }

    @Test
    void defectsAreNamed() throws Exception {
        assertTrue(error(file(0x46554746, 3, 0, 0, 8, null)).contains("not a GGUF file"));
        assertTrue(error(file(Gguf.MAGIC, 4, 0, 0, 8, null)).contains("version 4"));
        assertTrue(error(file(Gguf.MAGIC, 3, 0, 0, 7, null)).contains("truncated file: tensor 'w'"));
        assertTrue(error(file(Gguf.MAGIC, 3, 0, 16, 12, null)).contains("not a multiple of the alignment 32"));
        assertTrue(error(file(Gguf.MAGIC, 3, 77, 0, 8, null)).contains("ggml type 77"));
        assertTrue(error(file(Gguf.MAGIC, 3, 0, 0, 8, "general.file_type")).contains("appears twice"));
        assertTrue(error(file(Gguf.MAGIC, 3, GgmlType.Q8_0.id(), 0, 8, null)).contains("not a multiple of the Q8_0 block size"));
        Bytes longString = new Bytes().u32(Gguf.MAGIC).u32(3).u64(0).u64(1).u64(1L << 40);
        assertTrue(error(longString.raw(new byte[16])).contains("runs past the end"));
        Bytes hugeCount = new Bytes().u32(Gguf.MAGIC).u32(3).u64(1L << 50).u64(0).raw(new byte[16]);
        assertTrue(error(hugeCount).contains("tensor count"));
        Bytes overlap = new Bytes().u32(Gguf.MAGIC).u32(3).u64(2).u64(0)
                .str("a").u32(1).u64(8).u32(0).u64(0).str("b").u32(1).u64(8).u32(0).u64(0).padTo(32).raw(new byte[64]);
        assertTrue(error(overlap).contains("overlaps"));
    }

    /** Sizes near 2^63 must be refused, not overflow: the fuzzer's seed 13 input 12419 threw "long overflow". */
    @Test
    void sizesAndOffsetsThatOverflowAreRefused() throws Exception {
        // 2^31 x 2^31 F32 values fit a long as an element count (2^62) but not as bytes (2^64).
        Bytes hugeTensor = new Bytes().u32(Gguf.MAGIC).u32(3).u64(1).u64(0)
                .str("w").u32(2).u64(1L << 31).u64(1L << 31).u32(0).u64(0).padTo(32).raw(new byte[64]);
        assertTrue(error(hugeTensor).contains("larger than any file can hold"));
        // An aligned offset just below 2^63: offset + size would wrap negative and pass a plain end > size test.
        long offset = Long.MAX_VALUE - 31;
        Bytes hugeOffset = new Bytes().u32(Gguf.MAGIC).u32(3).u64(1).u64(0)
                .str("w").u32(1).u64(64).u32(0).u64(offset).padTo(32).raw(new byte[64]);
        assertTrue(error(hugeOffset).contains("truncated file: tensor 'w'"));
    }

    @Test
    void writerStreamsThePlanAndTheFileAppearsOnlyWhenComplete() throws Exception {
        Path target = tmp.resolve("out.gguf");
        GgufMetadata md = new GgufMetadata().putString("general.architecture", "llama").putU32("llama.block_count", 2)
                .putF32("llama.rope.freq_base", 1e6).putBool("tokenizer.ggml.add_bos_token", false)
                .putStrings("tokenizer.ggml.tokens", List.of("a", "Ġb", "日本")).putInt32s("tokenizer.ggml.token_type", List.of(1L, 1L, 3L));
        float[] w = new float[64];
        for (int i = 0; i < w.length; i++) w[i] = i / 64f - 0.5f;
        List<GgufTensorInfo> plan = List.of(GgufTensorInfo.planned("n", GgmlType.F32, 3), GgufTensorInfo.planned("w", GgmlType.Q8_0, 32, 2));
        try (GgufWriter wr = GgufWriter.create(target, md, plan)) {
            wr.push("n", GgmlType.F32, new long[] {3}, floats(new float[] {1, 2, 3}, GgmlType.F32));
            assertThrows(IllegalStateException.class, () -> wr.push("w", GgmlType.Q4_0, new long[] {32, 2}, floats(w, GgmlType.Q4_0)),
                    "a type other than planned is refused");
            CheckpointException short_ = assertThrows(CheckpointException.class,
                    () -> wr.push("w", GgmlType.Q8_0, new long[] {32, 2}, floats(new float[32], GgmlType.Q8_0)));
            assertTrue(short_.getMessage().contains("produced 34 bytes"), short_.getMessage());
        }
        assertFalse(Files.exists(target), "a failed write leaves no file under the target name");
        try (var s = Files.list(tmp)) { assertEquals(0, s.count(), "and no partial folder"); }

        try (GgufWriter wr = GgufWriter.create(target, md, plan)) {
            wr.push("n", GgmlType.F32, new long[] {3}, floats(new float[] {1, 2, 3}, GgmlType.F32));
            assertThrows(IllegalStateException.class, wr::commit, "commit before the last tensor is refused");
            assertFalse(Files.exists(target));
            wr.push("w", GgmlType.Q8_0, new long[] {32, 2}, floats(w, GgmlType.Q8_0));
            wr.commit();
        }
        try (GgufFile g = GgufFile.open(target)) {
            assertEquals("llama", g.require("general.architecture").asString());
            assertEquals(2L, g.require("llama.block_count").asLong());
            assertEquals(1e6, g.require("llama.rope.freq_base").asDouble(), 0);
            assertEquals(false, g.require("tokenizer.ggml.add_bos_token").value());
            assertEquals(List.of("a", "Ġb", "日本"), g.require("tokenizer.ggml.tokens").list());
            assertEquals(List.of(1L, 1L, 3L), g.require("tokenizer.ggml.token_type").list());
            assertArrayEquals(new float[] {1, 2, 3}, g.floats("n"));
            assertEquals(0, g.tensor("w").offset() % 32);
            float[] back = g.floats("w");
            for (int i = 0; i < w.length; i++) assertEquals(w[i], back[i], 0.5 / 127 * 1.001, "Q8_0 value " + i);
        }
        assertThrows(CheckpointException.class, () -> GgufWriter.create(target, md, plan), "an existing file is never overwritten");
    }

    private static TensorData floats(float[] v, GgmlType t) {
        return out -> {
            ByteBuffer b = ByteBuffer.allocate((int) t.byteSize(v.length, v.length)).order(ByteOrder.LITTLE_ENDIAN);
            t.encode(v, 0, v.length, b);
            TensorData.writeAll(out, b.flip());
        };
    }
}
