package zq.formats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Safetensors files assembled byte by byte in tests, independently of {@link SafetensorsWriter}, so
 * the reader is checked against the format and not only against zq's own writer.
 */
final class RawBytes {
    private RawBytes() {}

    /** The 8-byte little-endian u64 {@code v}. */
    static byte[] u64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] ascii(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** {@code header} with its true length in front, then {@code data}. */
    static byte[] file(String header, byte[] data) {
        byte[] h = ascii(header);
        return concat(u64(h.length), h, data);
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return file;
    }

    /** Bytes given as hex pairs, e.g. "00 3c ff 7f". */
    static byte[] hex(String pairs) {
        String[] p = pairs.trim().split("\\s+");
        byte[] b = new byte[p.length];
        for (int i = 0; i < p.length; i++) b[i] = (byte) Integer.parseInt(p[i], 16);
        return b;
    }

    static byte[] zeros(int n) { return new byte[n]; }
}
