package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.RawBytes.concat;
import static zq.formats.RawBytes.file;

/**
 * Decoding through positional reads in chunks: tensors spanning several chunks, reads that start and
 * end inside chunks, every 16-bit pattern of both half formats against the IEEE formulas evaluated in
 * float64, and the errors of reads that cannot be served.
 */
class ChunkedReadTest {
    @TempDir Path tmp;

    /** Elements of a 2-byte dtype in one chunk. */
    private static final int HALF_CHUNK = SafetensorsFile.READ_CHUNK / 2;

    private static String entry(String name, String dtype, long n, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + n + "],\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** Little-endian 16-bit patterns {@code pattern(i)} for i in [0, n). */
    private static byte[] halves(int n, java.util.function.IntUnaryOperator pattern) {
        byte[] b = new byte[2 * n];
        for (int i = 0; i < n; i++) {
            int p = pattern.applyAsInt(i);
            b[2 * i] = (byte) p;
            b[2 * i + 1] = (byte) (p >>> 8);
        }
        return b;
    }

    /** bfloat16 by its definition: 1 sign bit, 8 exponent bits (bias 127), 7 fraction bits. */
    private static double bf16Value(int bits) {
        return ieee(bits >>> 15 & 1, bits >>> 7 & 0xFF, bits & 0x7F, 0xFF, 127, 7);
    }

    /** IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
    private static double f16Value(int bits) {
        return ieee(bits >>> 15 & 1, bits >>> 10 & 0x1F, bits & 0x3FF, 0x1F, 15, 10);
    }

    private static double ieee(int sign, int exp, int frac, int maxExp, int bias, int fracBits) {
        double s = sign == 1 ? -1 : 1;
        if (exp == maxExp) return frac == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        if (exp == 0) return s * Math.pow(2, 1 - bias) * (frac / Math.pow(2, fracBits));
        return s * Math.pow(2, exp - bias) * (1 + frac / Math.pow(2, fracBits));
    }

    private static void assertDecodes(double expected, float actual, String what) {
        if (Double.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + ": expected NaN, got " + actual);
        } else {
            assertEquals((float) expected, actual, 0f, what); // every half value is exact in fp32
            assertEquals(Double.doubleToRawLongBits(expected) < 0, Float.floatToRawIntBits(actual) < 0, what + ": sign of zero");
        }
    }

    @Test void bf16TensorOfSeveralChunksDecodesEveryElement() throws Exception {
        int n = 3 * HALF_CHUNK + 123; // three whole chunks and a partial fourth
        Path f = RawBytes.write(tmp.resolve("bf16.safetensors"),
                file("{" + entry("w", "BF16", n, 0, 2L * n) + "}", halves(n, i -> (i * 40503) & 0xFFFF)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            TensorInfo t = st.require("w");
            float[] all = st.readFloats(t);
            for (int i = 0; i < n; i++) assertDecodes(bf16Value((i * 40503) & 0xFFFF), all[i], "element " + i);
            // a read that starts and ends inside chunks, into the middle of an array
            float[] part = new float[HALF_CHUNK + 20];
            int first = HALF_CHUNK - 7, count = HALF_CHUNK + 10;
            st.readFloats(t, first, part, 5, count);
            for (int i = 0; i < count; i++) {
                assertDecodes(bf16Value(((first + i) * 40503) & 0xFFFF), part[5 + i], "element " + (first + i));
            }
            assertEquals(0f, part[4]);
            assertEquals(0f, part[5 + count]);
        }
    }

    @Test void everyF16BitPatternDecodes() throws Exception {
        int n = 1 << 16;
        int copies = 3; // 384 KiB of patterns, repeated past a chunk boundary
        int total = n * copies;
        Path f = RawBytes.write(tmp.resolve("f16.safetensors"),
                file("{" + entry("h", "F16", total, 0, 2L * total) + "}", halves(total, i -> i & 0xFFFF)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            float[] v = st.readFloats(st.require("h"));
            for (int i = 0; i < total; i++) assertDecodes(f16Value(i & 0xFFFF), v[i], "pattern 0x" + Integer.toHexString(i & 0xFFFF));
        }
    }

    @Test void f32AndI32TensorsOfSeveralChunks() throws Exception {
        int n = SafetensorsFile.READ_CHUNK / 4 * 2 + 5;
        byte[] floats = new byte[4 * n], ints = new byte[4 * n];
        for (int i = 0; i < n; i++) {
            int fb = Float.floatToIntBits(i * 0.25f - 1000f), ib = i * -7 + 3;
            for (int j = 0; j < 4; j++) {
                floats[4 * i + j] = (byte) (fb >>> (8 * j));
                ints[4 * i + j] = (byte) (ib >>> (8 * j));
            }
        }
        String header = "{" + entry("f", "F32", n, 0, 4L * n) + "," + entry("i", "I32", n, 4L * n, 8L * n) + "}";
        Path path = RawBytes.write(tmp.resolve("wide.safetensors"), file(header, concat(floats, ints)));
        try (SafetensorsFile st = SafetensorsFile.open(path)) {
            float[] f = st.readFloats(st.require("f"));
            int[] in = st.readInts(st.require("i"));
            for (int i = 0; i < n; i++) {
                assertEquals(i * 0.25f - 1000f, f[i], 0f, "float " + i);
                assertEquals(i * -7 + 3, in[i], "int " + i);
            }
        }
    }

    @Test void threadsReadingOneFileTogetherGetTheirOwnValues() throws Exception {
        int n = HALF_CHUNK + 999;
        String header = "{" + entry("a", "BF16", n, 0, 2L * n) + "," + entry("b", "BF16", n, 2L * n, 4L * n) + "}";
        // bf16 0x3F80 + k is 1 + k/128 for k < 128: small integers plus fractions, exact
        byte[] data = concat(halves(n, i -> 0x3F80 + (i % 128)), halves(n, i -> 0xBF80 + (i % 128)));
        Path f = RawBytes.write(tmp.resolve("two.safetensors"), file(header, data));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            List<Future<float[]>> reads = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                String name = k % 2 == 0 ? "a" : "b";
                reads.add(pool.submit(() -> st.readFloats(st.require(name))));
            }
            for (int k = 0; k < reads.size(); k++) {
                float[] v = reads.get(k).get();
                float sign = k % 2 == 0 ? 1 : -1;
                for (int i = 0; i < n; i++) assertEquals(sign * (1 + (i % 128) / 128f), v[i], 0f, "element " + i);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test void fileTruncatedAfterOpeningIsANamedError() throws Exception {
        int n = 1000;
        Path f = RawBytes.write(tmp.resolve("cut.safetensors"), file("{" + entry("w", "BF16", n, 0, 2L * n) + "}", halves(n, i -> 0x3F80)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(raf.length() - 100);
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> st.readFloats(st.require("w")));
            assertTrue(e.getMessage().startsWith(f + ": cannot read tensor 'w'"), e.getMessage());
            assertTrue(e.getMessage().contains("end of file"), e.getMessage());
        }
    }

    @Test void readsOutsideTheTensorOrTheArrayAreRefused() throws Exception {
        int n = 10;
        Path f = RawBytes.write(tmp.resolve("small.safetensors"), file("{" + entry("w", "BF16", n, 0, 2L * n) + "}", halves(n, i -> 0x3F80)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            TensorInfo t = st.require("w");
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class, () -> st.readFloats(t, 8, new float[3], 0, 3));
            assertEquals("elements [8, 11) outside tensor 'w' of 10 elements", outside.getMessage());
            IllegalArgumentException array = assertThrows(IllegalArgumentException.class, () -> st.readFloats(t, 0, new float[4], 2, 3));
            assertEquals("3 values at offset 2 do not fit an array of 4", array.getMessage());
            float[] ok = new float[4];
            st.readFloats(t, 7, ok, 1, 3);
            assertArrayEquals(new float[]{0f, 1f, 1f, 1f}, ok);
        }
    }
}
