package zq.formats.gguf;

import zq.formats.HalfFloats;

import java.nio.ByteBuffer;

/**
 * The ggml tensor types zq writes and reads, with their ids in a GGUF tensor table and their block
 * layouts (ggml/src/ggml-common.h in llama.cpp). A row of {@code n} values takes {@code n / blockSize}
 * blocks of {@code blockBytes} bytes; float types are blocks of one value. Each type's encoding sits
 * beside its decoding: F16 and BF16 round to nearest even as ggml does, the block types quantize with
 * llama.cpp's reference rules ({@link Q8_0Blocks}, {@link Q4_0Blocks}, {@link Q4_1Blocks}).
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q8_0(8, 32, 34), BF16(30, 1, 2);

    private final int id, blockSize, blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type's number in a GGUF tensor table ({@code enum ggml_type}). */
    public int id() { return id; }

    /** Values per block. */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int blockBytes() { return blockBytes; }

    public boolean isQuantized() { return blockSize > 1; }

    /** The type with GGUF id {@code id}, or null when zq does not know it. */
    public static GgmlType fromId(long id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    /** Bytes of a tensor of {@code elements} values whose rows are {@code rowLength} long. */
    public long byteSize(long elements, long rowLength) {
        if (rowLength % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores rows in blocks of " + blockSize + "; a row of " + rowLength + " does not split");
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** Encodes {@code n} values (a whole number of blocks) of {@code x} from {@code off} into {@code out}, little-endian. */
    public void encode(float[] x, int off, int n, ByteBuffer out) {
        checkBlocks(n);
        switch (this) {
            case F32 -> { for (int i = 0; i < n; i++) out.putFloat(x[off + i]); }
            case F16 -> { for (int i = 0; i < n; i++) out.putShort(HalfFloats.floatToF16(x[off + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) out.putShort(HalfFloats.floatToBf16(x[off + i])); }
            case Q8_0 -> { for (int b = 0; b < n; b += 32) Q8_0Blocks.quantize(x, off + b, out); }
            case Q4_0 -> { for (int b = 0; b < n; b += 32) Q4_0Blocks.quantize(x, off + b, out); }
            case Q4_1 -> { for (int b = 0; b < n; b += 32) Q4_1Blocks.quantize(x, off + b, out); }
        }
    }

    /** Decodes {@code n} values (a whole number of blocks) from {@code in} into {@code y[off..]}. */
    public void decode(ByteBuffer in, float[] y, int off, int n) {
        checkBlocks(n);
        switch (this) {
            case F32 -> { for (int i = 0; i < n; i++) y[off + i] = in.getFloat(); }
            case F16 -> { for (int i = 0; i < n; i++) y[off + i] = HalfFloats.f16ToFloat(in.getShort()); }
            case BF16 -> { for (int i = 0; i < n; i++) y[off + i] = HalfFloats.bf16ToFloat(in.getShort()); }
            case Q8_0 -> { for (int b = 0; b < n; b += 32) Q8_0Blocks.dequantize(in, y, off + b); }
            case Q4_0 -> { for (int b = 0; b < n; b += 32) Q4_0Blocks.dequantize(in, y, off + b); }
            case Q4_1 -> { for (int b = 0; b < n; b += 32) Q4_1Blocks.dequantize(in, y, off + b); }
        }
    }

    private void checkBlocks(int n) {
        if (n % blockSize != 0) throw new IllegalArgumentException(n + " values are not a whole number of " + this + " blocks");
    }
}
