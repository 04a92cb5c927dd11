package zq.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.formats.RawBytes.ascii;
import static zq.formats.RawBytes.concat;
import static zq.formats.RawBytes.file;
import static zq.formats.RawBytes.hex;
import static zq.formats.RawBytes.u64;
import static zq.formats.RawBytes.zeros;

/** The reader against files assembled byte by byte: what the reference implementation accepts and rejects. */
class SafetensorsFileTest {
    @TempDir Path tmp;

    /** Opens {@code bytes} as a file and returns the one-line error, which must name the file and contain {@code what}. */
    private String rejected(byte[] bytes, String what) throws Exception {
        Path f = RawBytes.write(tmp.resolve("bad.safetensors"), bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f.toString() + ": "), "names the file: " + m);
        assertTrue(m.contains(what), "says '" + what + "': " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test void readsHandAssembledValuesOfEveryCommonDtype() throws Exception {
        // Listed out of offset order and padded with spaces: both allowed by the format.
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + entry("i", "I32", "[2]", 16, 24) + ","
                + entry("h", "F16", "[2]", 0, 4) + ","
                + entry("b", "BF16", "[2]", 4, 8) + ","
                + entry("f", "F32", "[2]", 8, 16) + "}   ";
        byte[] data = concat(
                hex("00 3c 00 c0"),              // F16 1.0 (0x3C00), -2.0 (0xC000)
                hex("80 3f 49 40"),              // BF16 1.0 (0x3F80), 3.140625 (0x4049)
                hex("00 00 c0 3f 00 00 20 c1"),  // F32 1.5 (0x3FC00000), -10.0 (0xC1200000)
                hex("fb ff ff ff 07 00 00 00")); // I32 -5, 7
        Path f = RawBytes.write(tmp.resolve("ok.safetensors"), file(header, data));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(List.of("i", "h", "b", "f"), st.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new float[]{1f, -2f}, st.readFloats(st.require("h")));
            assertArrayEquals(new float[]{1f, 3.140625f}, st.readFloats(st.require("b")));
            assertArrayEquals(new float[]{1.5f, -10f}, st.readFloats(st.require("f")));
            assertArrayEquals(new int[]{-5, 7}, st.readInts(st.require("i")));
            float[] part = new float[1];
            st.readFloats(st.require("f"), 1, part, 0, 1);
            assertEquals(-10f, part[0]);
            assertEquals(DType.BF16, st.info("b").dtype());
            assertEquals(4, st.info("b").begin());
        }
    }

    @Test void scalarsAndEmptyTensorsAreValid() throws Exception {
        String header = "{" + entry("empty", "F32", "[0,3]", 0, 0) + "," + entry("scalar", "F32", "[]", 0, 4) + "}";
        Path f = RawBytes.write(tmp.resolve("s.safetensors"), file(header, hex("00 00 80 3f")));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertArrayEquals(new float[]{1f}, st.readFloats(st.require("scalar")));
            assertEquals(0, st.readFloats(st.require("empty")).length);
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test void truncatedFile() throws Exception {
        rejected(hex("10 00 00 00 00"), "truncated file: 5 bytes");
    }

    @Test void headerLengthBeyondTheFile() throws Exception {
        rejected(concat(u64(1000), ascii("{}")), "header length 1000 goes beyond the end of the file (10 bytes)");
    }

    @Test void headerLengthOver100MB() throws Exception {
        rejected(concat(u64(100_000_001L), ascii("{}")), "header length 100000001 exceeds the limit of 100000000");
        // a u64 above Long.MAX_VALUE must not pass as a negative length
        rejected(concat(u64(-2L), ascii("{}")), "header length 18446744073709551614 exceeds");
    }

    @Test void headerNotJson() throws Exception {
        rejected(file("{\"a\": [1, ", zeros(0)), "header is not valid JSON");
        rejected(file("{\"a\":{}} x", zeros(0)), "header is not valid JSON"); // trailing garbage, serde refuses it too
    }

    @Test void headerNotAnObject() throws Exception {
        rejected(file("[1, 2]  ", zeros(0)), "header is not a JSON object");
        rejected(file("\"text\"", zeros(0)), "header is not a JSON object");
        rejected(concat(u64(0)), "header is not a JSON object");
    }

    @Test void headerNotUtf8() throws Exception {
        rejected(concat(u64(4), hex("7b ff fe 7d")), "header is not valid UTF-8");
    }

    @Test void duplicateTensorNames() throws Exception {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}";
        rejected(file(header, zeros(8)), "Duplicate field 'a'");
    }

    @Test void unknownDtype() throws Exception {
        rejected(file("{" + entry("w", "Q7", "[1]", 0, 1) + "}", zeros(1)), "tensor 'w': unknown dtype 'Q7'");
        rejected(file("{" + entry("w", "F8_E4M3", "[1]", 0, 1) + "}", zeros(1)), "tensor 'w': dtype F8_E4M3 is not supported by zq");
    }

    @Test void overlappingOffsets() throws Exception {
        String header = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
        rejected(file(header, zeros(12)), "tensor 'b' overlaps tensor 'a' (offset 4 < 8)");
    }

    @Test void gappedOffsets() throws Exception {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
        rejected(file(header, zeros(12)), "gap in data before tensor 'b' (offset 8, expected 4)");
        rejected(file("{" + entry("a", "F32", "[1]", 4, 8) + "}", zeros(8)), "gap in data before tensor 'a' (offset 4, expected 0)");
    }

    @Test void shapeAndSizeDisagree() throws Exception {
        rejected(file("{" + entry("w", "F32", "[3]", 0, 8) + "}", zeros(8)),
                "tensor 'w': data_offsets span 8 bytes but shape [3] of F32 needs 12");
        rejected(file("{" + entry("w", "BF16", "[2,2]", 0, 6) + "}", zeros(6)),
                "tensor 'w': data_offsets span 6 bytes but shape [2, 2] of BF16 needs 8");
    }

    @Test void malformedEntries() throws Exception {
        rejected(file("{" + entry("w", "F32", "[-1]", 0, 4) + "}", zeros(4)), "tensor 'w': shape [-1] is not a list of non-negative integers");
        rejected(file("{" + entry("w", "F32", "[1]", 4, 0) + "}", zeros(4)), "tensor 'w': invalid data_offsets [4, 0]");
        rejected(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", zeros(4)), "tensor 'w': data_offsets must be [begin, end]");
        rejected(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", zeros(4)),
                "tensor 'w': data_offsets must be [begin, end]");
        rejected(file("{\"w\":[1]}", zeros(0)), "tensor 'w': entry is not an object");
    }

    @Test void trailingBytes() throws Exception {
        rejected(file("{" + entry("w", "F32", "[1]", 0, 4) + "}", zeros(7)), "file has 3 trailing bytes after the last tensor");
    }

    @Test void dataShorterThanTheOffsets() throws Exception {
        rejected(file("{" + entry("w", "F32", "[2]", 0, 8) + "}", zeros(5)), "truncated file: tensors need 8 data bytes but only 5 are present");
    }

    @Test void metadataMustBeStringToString() throws Exception {
        rejected(file("{\"__metadata__\":{\"format\":1}}", zeros(0)), "__metadata__ value for 'format' is not a string");
        rejected(file("{\"__metadata__\":{\"nested\":{\"a\":\"b\"}}}", zeros(0)), "__metadata__ value for 'nested' is not a string");
        rejected(file("{\"__metadata__\":[\"pt\"]}", zeros(0)), "__metadata__ must be an object of strings");
    }

    @Test void missingTensorIsNamed() throws Exception {
        Path f = RawBytes.write(tmp.resolve("one.safetensors"), file("{" + entry("w", "F32", "[1]", 0, 4) + "}", zeros(4)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> st.require("v"));
            assertEquals(f + ": tensor 'v' is missing", e.getMessage());
            assertThrows(CheckpointException.class, () -> st.readInts(st.require("w")), "F32 is not I32");
            IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> st.map(st.require("w"), 2, 4));
            assertTrue(r.getMessage().contains("outside tensor 'w'"), r.getMessage());
        }
    }

    @Test void missingFileIsNamed() {
        Path f = tmp.resolve("absent.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().startsWith(f + ": cannot open"), e.getMessage());
    }
}
