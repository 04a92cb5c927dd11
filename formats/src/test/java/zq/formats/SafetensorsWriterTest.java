package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.RawBytes.ascii;
import static zq.formats.RawBytes.concat;
import static zq.formats.RawBytes.hex;

class SafetensorsWriterTest {
    @TempDir Path tmp;

    @Test void tinyFileIsByteForByteTheReferenceLayout() throws Exception {
        Path f = tmp.resolve("tiny.safetensors");
        SafetensorsWriter.write(f, SafetensorsWriter.defaultMetadata(), List.of(
                new SafetensorsWriter.Entry("a", DType.BF16, new long[]{1, 2}, TensorData.floats(new float[]{1f, -2f}, DType.BF16)),
                new SafetensorsWriter.Entry("b", DType.I32, new long[]{1}, TensorData.ints(new int[]{258}))));
        // 141 bytes of JSON padded with 3 spaces to 144 = 0x90, a multiple of 8
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        byte[] expected = concat(
                hex("90 00 00 00 00 00 00 00"),
                ascii(json + "   "),
                hex("80 3f 00 c0"),   // BF16 1.0 = 0x3F80, -2.0 = 0xC000
                hex("02 01 00 00"));  // I32 258 = 0x00000102
        assertArrayEquals(expected, Files.readAllBytes(f));
    }

    @Test void valuesOfEachDtypeRoundTrip() throws Exception {
        Path f = tmp.resolve("rt.safetensors");
        // values exactly representable in each dtype, so decoding must return them unchanged
        float[] halfExact = {0f, -0f, 1f, -2.5f, 65504f, 0x1p-24f, 0.333251953125f};
        float[] bf16Exact = {0f, 1f, -3.140625f, 70144f, 0x1p-126f, -65536f};
        float[] f32 = {Float.MIN_VALUE, -Float.MAX_VALUE, 0.1f, 1e-30f};
        int[] ints = {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE};
        SafetensorsWriter.write(f, Map.of(), List.of(
                new SafetensorsWriter.Entry("h", DType.F16, new long[]{7}, TensorData.floats(halfExact, DType.F16)),
                new SafetensorsWriter.Entry("b", DType.BF16, new long[]{2, 3}, TensorData.floats(bf16Exact, DType.BF16)),
                new SafetensorsWriter.Entry("f", DType.F32, new long[]{4}, TensorData.floats(f32, DType.F32)),
                new SafetensorsWriter.Entry("i", DType.I32, new long[]{5}, TensorData.ints(ints))));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertArrayEquals(halfExact, st.readFloats(st.require("h")));
            assertArrayEquals(bf16Exact, st.readFloats(st.require("b")));
            assertArrayEquals(f32, st.readFloats(st.require("f")));
            assertArrayEquals(ints, st.readInts(st.require("i")));
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test void tensorDataProducingTheWrongByteCountIsNamed() {
        Path f = tmp.resolve("short.safetensors");
        IOException e = assertThrows(IOException.class, () -> SafetensorsWriter.write(f, Map.of(), List.of(
                new SafetensorsWriter.Entry("w", DType.F32, new long[]{3}, TensorData.floats(new float[]{1f, 2f}, DType.F32)))));
        assertEquals(f + ": tensor 'w' produced 8 bytes, expected 12", e.getMessage());
    }

    @Test void refusesDuplicateNamesNegativeDimensionsAndTheMetadataKey() {
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.header(Map.of(), List.of(
                new SafetensorsWriter.Planned("x", DType.F32, new long[]{0}),
                new SafetensorsWriter.Planned("x", DType.F32, new long[]{0}))));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.header(Map.of(), List.of(
                new SafetensorsWriter.Planned("x", DType.F32, new long[]{-1}))));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.header(Map.of(), List.of(
                new SafetensorsWriter.Planned("__metadata__", DType.F32, new long[]{0}))));
    }

    @Test void copiesTensorsBetweenFilesByteForByte() throws Exception {
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        SafetensorsWriter.write(a, Map.of(), List.of(
                new SafetensorsWriter.Entry("x", DType.F16, new long[]{3}, TensorData.floats(new float[]{1f, 2f, 3f}, DType.F16)),
                new SafetensorsWriter.Entry("y", DType.I32, new long[]{2}, TensorData.ints(new int[]{7, 9}))));
        try (SafetensorsFile src = SafetensorsFile.open(a)) {
            List<SafetensorsWriter.Entry> copy = new ArrayList<>();
            for (String n : List.of("y", "x")) {
                TensorInfo t = src.require(n);
                copy.add(new SafetensorsWriter.Entry(n, t.dtype(), t.shape(), TensorData.copyOf(src, t)));
            }
            SafetensorsWriter.write(b, Map.of(), copy);
        }
        try (SafetensorsFile st = SafetensorsFile.open(b)) {
            assertArrayEquals(new int[]{7, 9}, st.readInts(st.require("y")));
            assertArrayEquals(new float[]{1f, 2f, 3f}, st.readFloats(st.require("x")));
        }
    }

    /**
     * A 2.5 GiB tensor in a sparse file (no disk used): it must be read in pieces, and elements past
     * 2^31 must land where they belong.
     */
    @Test void tensorsBeyondTwoGiBAreMappedInPieces() throws Exception {
        long n = 2_684_354_560L; // 2.5 GiB of U8
        byte[] header = ascii("{\"big\":{\"dtype\":\"U8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}");
        long data = 8 + header.length;
        Path f = tmp.resolve("sparse.safetensors");
        long far = (1L << 31) + 5;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(concat(RawBytes.u64(header.length), header));
            raf.setLength(data + n);
            raf.seek(data + far);
            raf.write(42);
            raf.seek(data + n - 1);
            raf.write(7);
        }
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            TensorInfo t = st.require("big");
            List<long[]> pieces = new ArrayList<>();
            st.forEachPiece(t, 0, n, (b, first) -> pieces.add(new long[]{first, b.capacity()}));
            // 1 GiB, 1 GiB, 0.5 GiB
            assertEquals(3, pieces.size());
            assertArrayEquals(new long[]{0, 1L << 30}, pieces.get(0));
            assertArrayEquals(new long[]{1L << 30, 1L << 30}, pieces.get(1));
            assertArrayEquals(new long[]{1L << 31, n - (1L << 31)}, pieces.get(2));
            float[] v = new float[3];
            st.readFloats(t, far - 1, v, 0, 3);
            assertArrayEquals(new float[]{0f, 42f, 0f}, v);
            st.readFloats(t, n - 1, v, 2, 1);
            assertEquals(7f, v[2]);
            IllegalArgumentException whole = assertThrows(IllegalArgumentException.class, () -> st.map(t));
            assertTrue(whole.getMessage().contains("read it in pieces"), whole.getMessage());
        }
    }
}
