package zq.runtime;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The SIMD inner loops of the decode products, on JDK 17's incubating Vector API. Only called when the
 * module is present ({@link VectorSupport#AVAILABLE}), otherwise the scalar loops of {@link MappedMatrix}
 * and {@link Int4Matrix} run. Lane counts follow the machine's
 * preferred float vector (16 lanes with AVX-512).
 */
final class VectorKernels {
    private VectorKernels() {}

    /** The species, built on first use. */
    private static final class S {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
        static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
        static final int L = F.length();
    }

    /** Σ bf16(b[off + 2c]) · x[c] over c in [0, cols). */
    static float dotBf16(ByteBuffer b, int off, float[] x, int cols) {
        int l = S.L, c = 0;
        FloatVector a0 = FloatVector.zero(S.F), a1 = FloatVector.zero(S.F);
        for (; c + 2 * l <= cols; c += 2 * l) {
            a0 = widen(b, off + 2 * c).fma(FloatVector.fromArray(S.F, x, c), a0);
            a1 = widen(b, off + 2 * (c + l)).fma(FloatVector.fromArray(S.F, x, c + l), a1);
        }
        for (; c + l <= cols; c += l) a0 = widen(b, off + 2 * c).fma(FloatVector.fromArray(S.F, x, c), a0);
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) s += Float.intBitsToFloat((b.getShort(off + 2 * c) & 0xFFFF) << 16) * x[c];
        return s;
    }

    /** L bf16 values at byte {@code off} as fp32: sign-extend to int, shift the 16 bits to the top. */
    private static FloatVector widen(ByteBuffer b, int off) {
        ShortVector h = ShortVector.fromByteBuffer(S.H, b, off, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) h.convertShape(VectorOperators.S2I, S.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Σ f32(b[off + 4c]) · x[c]. */
    static float dotF32(ByteBuffer b, int off, float[] x, int cols) {
        int l = S.L, c = 0;
        FloatVector a0 = FloatVector.zero(S.F);
        for (; c + l <= cols; c += l) {
            a0 = FloatVector.fromByteBuffer(S.F, b, off + 4 * c, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S.F, x, c), a0);
        }
        float s = a0.reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) s += b.getFloat(off + 4 * c) * x[c];
        return s;
    }

    /** Output columns one Int4 step covers: the width a tile of {@link Int4Matrix} should be a multiple of. */
    static int int4Lanes() { return S.L; }

    /**
     * Columns {@code [n0, n0+width)} of the Int4 product without its zero term, {@code width} a multiple of
     * {@link #int4Lanes()}, added into {@code acc[0..width)}: Σ over word rows r of Σ_j x[8r+j] · s[g][n] ·
     * q_j(word[r][n]), one scale per word when {@code wordGroup[r] ≥ 0}. Each word row's run of the tile is
     * read once, a few cache lines in a row. Code j is taken as {@code word & (15 << 4j)} = q_j·16^j, never
     * shifted down: the input it meets is pre-scaled by 16^−j ({@link Int4Matrix#NIBBLE_WEIGHT}), a power of two,
     * so the product is the same float and one vector op per code is saved. (Summing two word rows of a group
     * before their one scale made C2 on JDK 17 fall off its vector intrinsics, 30× slower, so each row is scaled.)
     */
    static void int4Tile(ByteBuffer qweight, int out, int[] wordGroup, int[] gIdx, float[] scales, float[] x, int n0, int width,
                         float[] acc) {
        int l = S.L, rows = wordGroup.length;
        float[] w8 = Int4Matrix.NIBBLE_WEIGHT;
        for (int r = 0; r < rows; r++) {
            int k0 = 8 * r, g = wordGroup[r], row = 4 * (r * out + n0);
            FloatVector x0 = FloatVector.broadcast(S.F, x[k0]), x1 = FloatVector.broadcast(S.F, x[k0 + 1] * w8[1]),
                    x2 = FloatVector.broadcast(S.F, x[k0 + 2] * w8[2]), x3 = FloatVector.broadcast(S.F, x[k0 + 3] * w8[3]),
                    x4 = FloatVector.broadcast(S.F, x[k0 + 4] * w8[4]), x5 = FloatVector.broadcast(S.F, x[k0 + 5] * w8[5]),
                    x6 = FloatVector.broadcast(S.F, x[k0 + 6] * w8[6]), x7 = FloatVector.broadcast(S.F, x[k0 + 7]);
            if (g >= 0) {
                for (int c = 0; c < width; c += l) {
                    IntVector w = IntVector.fromByteBuffer(S.I, qweight, row + 4 * c, ByteOrder.LITTLE_ENDIAN);
                    FloatVector dot = wordDot(w, x1, x2, x3, x4, x5, x6, x7, code(w, 0).mul(x0));
                    FloatVector.fromArray(S.F, scales, g * out + n0 + c).fma(dot, FloatVector.fromArray(S.F, acc, c)).intoArray(acc, c);
                }
            } else {
                for (int c = 0; c < width; c += l) {
                    IntVector w = IntVector.fromByteBuffer(S.I, qweight, row + 4 * c, ByteOrder.LITTLE_ENDIAN);
                    FloatVector a = FloatVector.fromArray(S.F, acc, c);
                    int base = n0 + c;
                    a = code(w, 0).fma(FloatVector.fromArray(S.F, scales, gIdx[k0] * out + base).mul(x0), a);
                    a = code(w, 1).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 1] * out + base).mul(x1), a);
                    a = code(w, 2).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 2] * out + base).mul(x2), a);
                    a = code(w, 3).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 3] * out + base).mul(x3), a);
                    a = code(w, 4).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 4] * out + base).mul(x4), a);
                    a = code(w, 5).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 5] * out + base).mul(x5), a);
                    a = code(w, 6).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 6] * out + base).mul(x6), a);
                    a = code(w, 7).fma(FloatVector.fromArray(S.F, scales, gIdx[k0 + 7] * out + base).mul(x7), a);
                    a.intoArray(acc, c);
                }
            }
        }
    }

    /** {@code sum + Σ_{j=1..7} code_j(w)·xj}, the xj pre-scaled by 16^−j. */
    private static FloatVector wordDot(IntVector w, FloatVector x1, FloatVector x2, FloatVector x3, FloatVector x4,
                                       FloatVector x5, FloatVector x6, FloatVector x7, FloatVector sum) {
        FloatVector d = code(w, 1).fma(x1, sum);
        d = code(w, 2).fma(x2, d);
        d = code(w, 3).fma(x3, d);
        d = code(w, 4).fma(x4, d);
        d = code(w, 5).fma(x5, d);
        d = code(w, 6).fma(x6, d);
        return code(w, 7).fma(x7, d);
    }

    /**
     * Code j of each word as q_j·16^j (exact in fp32: 4 significant bits), q_0 and q_7 as q: the top code is
     * shifted down (logically), since masking it in place would leave it in the sign bit.
     */
    private static FloatVector code(IntVector w, int j) {
        IntVector q = j == 7 ? w.lanewise(VectorOperators.LSHR, 28) : w.and(15 << (4 * j));
        return (FloatVector) q.convert(VectorOperators.I2F, 0);
    }
}
