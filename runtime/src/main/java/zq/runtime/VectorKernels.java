package zq.runtime;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import zq.formats.HalfFloats;

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
        static final int L = F.length();
    }

    /**
     * Σ bf16(b[off + 2c]) · x[c] over c in [0, cols), with x given de-interleaved: {@code xEven[i] = x[2i]},
     * {@code xOdd[i] = x[2i+1]}. The row is read as 32-bit words, each holding the pair (2i, 2i+1): the even value
     * is the low half shifted to the top, the odd one the high half with the low half masked off, so no lane is
     * widened or shuffled (JDK 17 compiles the short-to-int widening of the Vector API poorly).
     */
    static float dotBf16(ByteBuffer b, int off, float[] xEven, float[] xOdd, int cols) {
        int l = S.L, pairs = cols / 2, i = 0;
        FloatVector a0 = FloatVector.zero(S.F), a1 = FloatVector.zero(S.F), a2 = FloatVector.zero(S.F), a3 = FloatVector.zero(S.F);
        for (; i + 2 * l <= pairs; i += 2 * l) {
            IntVector w = IntVector.fromByteBuffer(S.I, b, off + 4 * i, ByteOrder.LITTLE_ENDIAN);
            IntVector v = IntVector.fromByteBuffer(S.I, b, off + 4 * (i + l), ByteOrder.LITTLE_ENDIAN);
            a0 = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(S.F, xEven, i), a0);
            a1 = w.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(S.F, xOdd, i), a1);
            a2 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(S.F, xEven, i + l), a2);
            a3 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(S.F, xOdd, i + l), a3);
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (int c = 2 * i; c < cols; c++) {
            float x = (c & 1) == 0 ? xEven[c / 2] : xOdd[c / 2];
            s += Float.intBitsToFloat((b.getShort(off + 2 * c) & 0xFFFF) << 16) * x;
        }
        return s;
    }

    /** As {@link #dotBf16} for fp16 values, widened by {@link #f16}. */
    static float dotF16(ByteBuffer b, int off, float[] xEven, float[] xOdd, int cols) {
        int l = S.L, pairs = cols / 2, i = 0;
        FloatVector a0 = FloatVector.zero(S.F), a1 = FloatVector.zero(S.F);
        for (; i + l <= pairs; i += l) {
            IntVector w = IntVector.fromByteBuffer(S.I, b, off + 4 * i, ByteOrder.LITTLE_ENDIAN);
            a0 = f16(w.and(0xFFFF)).fma(FloatVector.fromArray(S.F, xEven, i), a0);
            a1 = f16(w.lanewise(VectorOperators.LSHR, 16)).fma(FloatVector.fromArray(S.F, xOdd, i), a1);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (int c = 2 * i; c < cols; c++) {
            float x = (c & 1) == 0 ? xEven[c / 2] : xOdd[c / 2];
            s += HalfFloats.f16ToFloat(b.getShort(off + 2 * c)) * x;
        }
        return s;
    }

    /** 2¹¹²: moves a half's exponent (bias 15), placed in an fp32's exponent field, to fp32's bias 127. */
    private static final float F16_EXPONENT_SHIFT = 0x1p112f;

    /**
     * fp16 bit patterns (in the low 16 bits of each lane) as fp32, exactly: the magnitude bits moved up by 13 are the
     * fp32 whose exponent is the half's, so multiplying by 2¹¹² rebiases it, subnormal halves included (they become
     * fp32 subnormals that the product normalises); the all-ones exponent (infinity, NaN) is set apart, and the sign is
     * put back last. The one-value form is for tests.
     */
    static float f16(short h) {
        return f16(IntVector.broadcast(S.I, h & 0xFFFF)).lane(0);
    }

    private static FloatVector f16(IntVector h) {
        IntVector magnitude = h.and(0x7FFF);
        FloatVector value = magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(F16_EXPONENT_SHIFT);
        IntVector bits = value.reinterpretAsInts()
                .blend(magnitude.lanewise(VectorOperators.LSHL, 13).or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x7C00));
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
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

    /**
     * {@link FloatExp#exp} in every lane, each step rounded as the scalar code rounds it (no fused multiply-add), so
     * the same bits; lanes out of the scalar code's range get what its early returns give (+∞, NaN as it came, 0).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector shifted = x.mul(FloatExp.LOG2E).add(FloatExp.ROUNDER);
        IntVector n = shifted.reinterpretAsInts().sub(0x4B400000);
        FloatVector nf = shifted.sub(FloatExp.ROUNDER);
        FloatVector r = x.sub(nf.mul(FloatExp.LN2_HI));
        r = r.sub(nf.mul(FloatExp.LN2_LO));
        FloatVector p = r.mul(FloatExp.P0).add(FloatExp.P1);
        p = p.mul(r).add(FloatExp.P2);
        p = p.mul(r).add(FloatExp.P3);
        p = p.mul(r).add(FloatExp.P4);
        p = p.mul(r).add(FloatExp.P5);
        p = p.mul(r.mul(r)).add(r).add(1f);
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = n.sub(n1);
        FloatVector e = p.mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        e = e.blend(0f, x.compare(VectorOperators.LE, FloatExp.UNDERFLOW));
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GE, FloatExp.OVERFLOW));
        return e.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** Lanes per {@link #exp} call: the loops below leave the last {@code length % lanes} elements to the caller. */
    static int floatLanes() {
        return S.L;
    }

    /** {@code gate[i] ← gate[i] / (1 + e^−gate[i]) · up[i]} for i in [from, to − (to − from) % lanes), as LayerSteps.swiGlu. */
    static int swiGlu(float[] gate, float[] up, int from, int to) {
        int i = from;
        for (; i + S.L <= to; i += S.L) {
            FloatVector g = FloatVector.fromArray(S.F, gate, i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(S.F, up, i)).intoArray(gate, i);
        }
        return i;
    }

    /** {@code s[i] ← e^(s[i] − max)} for i in [from, to − (to − from) % lanes), as Attention's softmax; returns where it stopped. */
    static int expShifted(float[] s, int from, int to, float max) {
        int i = from;
        for (; i + S.L <= to; i += S.L) exp(FloatVector.fromArray(S.F, s, i).sub(max)).intoArray(s, i);
        return i;
    }
}
