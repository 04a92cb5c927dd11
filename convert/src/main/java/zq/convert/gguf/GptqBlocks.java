package zq.convert.gguf;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;
import zq.formats.HalfFloats;
import zq.formats.LinearRef;
import zq.formats.TensorData;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.Q4_0Blocks;
import zq.formats.gguf.Q4_1Blocks;
import zq.formats.gptq.Int4Layout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * A GPTQ Int4 Linear written as Q4_0 or Q4_1 blocks without re-quantizing: GPTQ's weight
 * {@code W[n][k] = scale[g][n]·(q[k][n] − zero[g][n])} with {@code g = g_idx[k]} is, for each run of 32
 * inputs that share one group, a Q4_0 block {@code d·(q − 8)} with {@code d = scale} when the zero is 8
 * (symmetric GPTQ), or a Q4_1 block {@code d·q + m} with {@code d = scale} and {@code m = −scale·zero}
 * rounded to fp16 (asymmetric). The codes are GPTQ's own. A run of 32 inputs spanning two groups (a group
 * size that is not a multiple of 32, or act-order without static groups) has no block form and is refused.
 */
final class GptqBlocks implements TensorData {
    private static final int ROWS_PER_CHUNK = 256;

    private final Checkpoint checkpoint;
    private final LinearRef linear;
    private final int[] rows;
    private final GgmlType type;

    GptqBlocks(Checkpoint checkpoint, LinearRef linear, int[] rows, GgmlType type) {
        if (type != GgmlType.Q4_0 && type != GgmlType.Q4_1) throw new IllegalArgumentException("GPTQ Int4 maps to Q4_0 or Q4_1, not " + type);
        this.checkpoint = checkpoint;
        this.linear = linear;
        this.rows = rows;
        this.type = type;
    }

    /**
     * Checks that every block of 32 inputs lies in one group; throws naming the Linear and the first input
     * where a group changes inside a block.
     */
    static void checkBlockGroups(Checkpoint checkpoint, LinearRef linear, int[] gIdx) {
        if (linear.inFeatures() % 32 != 0) {
            throw new CheckpointException(checkpoint.dir() + ": Linear '" + linear.prefix() + "': in_features " + linear.inFeatures()
                    + " is not a multiple of 32, the Q4 block size");
        }
        for (int k = 0; k < gIdx.length; k++) {
            if (gIdx[k] != gIdx[k - k % 32]) {
                throw new CheckpointException(checkpoint.dir() + ": Linear '" + linear.prefix() + "': inputs " + (k - k % 32) + " and " + k
                        + " of one 32-value block belong to groups " + gIdx[k - k % 32] + " and " + gIdx[k] + " (g_idx); GGUF's Q4_0/Q4_1 "
                        + "need every block of 32 inputs in one group: a group size that is a multiple of 32 (or per-channel), with "
                        + "desc_act only together with static groups");
            }
        }
    }

    @Override public void writeTo(WritableByteChannel out) throws IOException {
        int in = linear.inFeatures(), outF = linear.outFeatures();
        int[] qweight = checkpoint.ints(linear.qweight());
        int[] gIdx = checkpoint.ints(linear.gIdx());
        float[] scales = checkpoint.floats(linear.scales());
        int groups = scales.length / outF;
        int[] zeros = Int4Layout.unpackZeros(linear.prefix(), checkpoint.ints(linear.qzeros()), groups, outF,
                checkpoint.config().quantization().zeroFormat());
        checkBlockGroups(checkpoint, linear, gIdx);
        short[] scaleBits = new short[scales.length];
        for (int i = 0; i < scales.length; i++) {
            scaleBits[i] = HalfFloats.floatToF16(scales[i]);
            if (HalfFloats.f16ToFloat(scaleBits[i]) != scales[i]) {
                throw new CheckpointException(checkpoint.dir() + ": Linear '" + linear.prefix() + "': scale " + scales[i]
                        + " is not an fp16 value, so no Q4 block holds it exactly");
            }
        }
        int blocks = in / 32;
        ByteBuffer buf = ByteBuffer.allocate(ROWS_PER_CHUNK * blocks * type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
        byte[] codes = new byte[32];
        for (int r0 = 0; r0 < rows.length; r0 += ROWS_PER_CHUNK) {
            buf.clear();
            for (int r = r0; r < Math.min(rows.length, r0 + ROWS_PER_CHUNK); r++) {
                int n = rows[r];
                for (int b = 0; b < blocks; b++) {
                    int k0 = b * 32, g = gIdx[k0];
                    for (int j = 0; j < 32; j++) {
                        int k = k0 + j;
                        codes[j] = (byte) ((qweight[(k >> 3) * outF + n] >>> (4 * (k & 7))) & 0xF);
                    }
                    int zero = zeros[g * outF + n];
                    short d = scaleBits[g * outF + n];
                    if (type == GgmlType.Q4_0) {
                        if (zero != 8) {
                            throw new CheckpointException(checkpoint.dir() + ": Linear '" + linear.prefix() + "': zero point " + zero + " of group " + g
                                    + ", output " + n + " is not 8, so the symmetric Q4_0 block d·(q − 8) cannot hold it (sym is set in the config)");
                        }
                        Q4_0Blocks.write(d, codes, buf);
                    } else {
                        Q4_1Blocks.write(d, HalfFloats.floatToF16(-scales[g * outF + n] * zero), codes, buf);
                    }
                }
            }
            TensorData.writeAll(out, buf.flip());
        }
    }
}
