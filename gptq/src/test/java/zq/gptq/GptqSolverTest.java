package zq.gptq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GptqSolverTest {
    private static final int OUT = 64;
    private static final int IN = 256;
    private static final Layers LAYER = new Layers(42, OUT, IN, 512);

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("rows", -1, false, false, true),
                Arguments.of("g32", 32, false, false, true),
                Arguments.of("g128", 128, false, false, true),
                Arguments.of("g32-asym", 32, false, false, false),
                Arguments.of("desc_act", -1, true, false, true),
                Arguments.of("desc_act-g32", 32, true, false, true),
                Arguments.of("static-desc_act-g64", 64, true, true, true),
                Arguments.of("static-g32", 32, false, true, true));
    }

    /**
     * The blocked fp32 solver against the unblocked float64 reference. A row may diverge only at a
     * rounding tie: where the float64 w/scale lies within 1e-4 of k + 0.5, float32 may round the other
     * way (the typical case is a group's negative extreme, whose exact ratio is -7.5 under sym; torch
     * decides it by the same fp32 rounding as zq). After such a flip the row's later columns see a
     * different error and may differ too, so diverged rows are only bounded in number.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void agreesWithUnblockedFloat64Gptq(String name, int gs, boolean descAct, boolean staticGroups, boolean sym) {
        GptqConfig cfg = new GptqConfig(4, gs, descAct, sym, staticGroups, 0.01, 128, false);
        QuantizedLinear got = new GptqSolver(cfg).quantize(name, LAYER.weight, OUT, IN, LAYER.hessian);
        ReferenceGptq ref = ReferenceGptq.run(LAYER.weight, OUT, IN, LAYER.hessian, gs, descAct, staticGroups, sym, 0.01, 128);

        assertArrayEquals(ref.gIdx, got.gIdx(), "g_idx");
        int rowsDiverged = assertAgreesUpToTies(name, got, ref, OUT, IN);
        assertTrue(rowsDiverged <= OUT / 16, name + ": " + rowsDiverged + " of " + OUT + " rows diverged at ties");
    }

    /** Checks codes, grids and dequantised weights row by row; returns the number of rows that diverged at a tie. */
    /**
     * The column loop walks rows in bands of 64 held transposed, with the error spread on the Vector API when the
     * module is present. 100 rows make one full band and one partial one; both loops must still agree with the
     * float64 reference, and with each other bit for bit, since the SIMD loop multiplies and subtracts without fusing,
     * as the scalar one does.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void partialBandsAndTheSimdLoopAgreeWithTheReference(String name, int gs, boolean descAct, boolean staticGroups, boolean sym) {
        assertTrue(zq.runtime.VectorSupport.AVAILABLE, "the test JVM adds jdk.incubator.vector (surefire argLine), so both loops are tested");
        int out = 100;
        Layers layer = new Layers(7, out, IN, 512);
        GptqConfig cfg = new GptqConfig(4, gs, descAct, sym, staticGroups, 0.01, 128, false);
        QuantizedLinear simd = new GptqSolver(cfg, true).quantize(name, layer.weight, out, IN, layer.hessian);
        QuantizedLinear scalar = new GptqSolver(cfg, false).quantize(name, layer.weight, out, IN, layer.hessian);
        ReferenceGptq ref = ReferenceGptq.run(layer.weight, out, IN, layer.hessian, gs, descAct, staticGroups, sym, 0.01, 128);
        for (QuantizedLinear got : new QuantizedLinear[] {simd, scalar}) {
            assertArrayEquals(ref.gIdx, got.gIdx(), "g_idx");
            int rowsDiverged = assertAgreesUpToTies(name, got, ref, out, IN);
            assertTrue(rowsDiverged <= out / 16, name + ": " + rowsDiverged + " of " + out + " rows diverged at ties");
        }
        assertArrayEquals(scalar.codes(), simd.codes(), name + ": codes");
        assertArrayEquals(scalar.scales(), simd.scales(), name + ": scales");
        assertArrayEquals(scalar.zeros(), simd.zeros(), name + ": zeros");
        assertEquals(scalar.report().loss(), simd.report().loss(), 0, name + ": loss");
    }

    /**
     * Many blocks: 960 inputs are 7 full blocks of 128 and a half one, so every block but the first is pulled by
     * several quantised ones, and the last block is partial; groups of 320, 96 and 480 straddle blocks, so their
     * grids are fitted inside larger blocks of U ({@link GptqSolver#outerBlock}). An update lost or applied twice
     * would move the later codes of every row, far from any tie.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("manyBlockConfigs")
    void manyBlocksAndAPartialLastOneAgreeWithTheReference(String name, int gs, boolean descAct, boolean staticGroups, boolean sym) {
        int out = 48;
        int in = 960;
        Layers layer = new Layers(11, out, in, 2048);
        GptqConfig cfg = new GptqConfig(4, gs, descAct, sym, staticGroups, 0.01, 128, false);
        ReferenceGptq ref = ReferenceGptq.run(layer.weight, out, in, layer.hessian, gs, descAct, staticGroups, sym, 0.01, 128);
        // blocks of U of one loop block (every block pulled, no push), of 384 (pulls, and pushes inside; the last
        // block of U is partial) and the default, which at 960 inputs is one block: the whole U, pushes only
        for (int pull : new int[] {128, 384, GptqSolver.PULL_COLUMNS}) {
            QuantizedLinear got = new GptqSolver(cfg, true, pull).quantize(name, layer.weight, out, in, layer.hessian);
            String what = name + ", blocks of U of " + new GptqSolver(cfg, true, pull).outerBlock(in);
            assertArrayEquals(ref.gIdx, got.gIdx(), "g_idx");
            // U's float32 error grows with its width: at 960 inputs scales of dynamic groups are up to 5.2e-5 off the
            // float64 ones (3e-5 is enough at 256), and w/scale as far as 2.6e-4 from the tie it flips at
            int rowsDiverged = assertAgreesUpToTies(what, got, ref, out, in, 1e-4, 1e-3);
            // a row of 960 codes meets a tie about 4 times as often as one of 256, so the bound is out/6, not out/16;
            // which rows flip depends on the BLAS kernels' rounding: at most 6 of 48 with OpenBLAS's AVX2 kernels,
            // 7 with its AVX-512 ones (desc_act-g32, blocks of 128). Each diverged row was checked above to be at a tie
            assertTrue(rowsDiverged <= out / 6, what + ": " + rowsDiverged + " of " + out + " rows diverged at ties");
        }
    }

    static Stream<Arguments> manyBlockConfigs() {
        return Stream.of(
                Arguments.of("rows", -1, false, false, true),
                Arguments.of("g32", 32, false, false, true),
                Arguments.of("g64-asym", 64, false, false, false),
                Arguments.of("g320-wider-than-a-block", 320, false, false, true),
                // groups of 96 straddle blocks of 128 (blocks of U of 384); one of 480 makes U one block of all 960
                Arguments.of("g96-straddles-blocks", 96, false, false, true),
                Arguments.of("desc_act-g96-asym", 96, true, false, false),
                Arguments.of("g480-whole-u", 480, false, false, true),
                Arguments.of("desc_act-g32", 32, true, false, true),
                Arguments.of("static-desc_act-g64", 64, true, true, true));
    }

    static int assertAgreesUpToTies(String name, QuantizedLinear got, ReferenceGptq ref, int out, int in) {
        return assertAgreesUpToTies(name, got, ref, out, in, 3e-5, 1e-4);
    }

    /**
     * @param scaleTolerance relative error allowed on a scale of a row that agrees
     * @param tieBand        how close to k + 0.5 the float64 w/scale must be where a row diverges
     */
    static int assertAgreesUpToTies(String name, QuantizedLinear got, ReferenceGptq ref, int out, int in, double scaleTolerance,
                                    double tieBand) {
        int groups = ref.scales.length / out;
        assertEquals(groups, got.groups());
        int rowsDiverged = 0;
        for (int r = 0; r < out; r++) {
            int first = -1;
            for (int p = 0; p < in && first < 0; p++) {
                if (got.codes()[r * in + ref.perm[p]] != ref.codes[r * in + ref.perm[p]]) first = r * in + ref.perm[p];
            }
            if (first >= 0) {
                rowsDiverged++;
                double frac = ref.ratio[first] - Math.floor(ref.ratio[first]);
                assertTrue(Math.abs(frac - 0.5) < tieBand, name + " row " + r + " diverges where w/scale = "
                        + ref.ratio[first] + ", which is not a rounding tie");
                continue;
            }
            for (int g = 0; g < groups; g++) {
                int k = g * out + r;
                // a dynamic group's scale is fitted from weights updated through U, whose float32 error is up to
                // 5e-5 relative (InverseHessianTest); measured up to 1.2e-5 at 256 inputs, 4.4e-5 at 960
                assertEquals(ref.scales[k], got.scales()[k], scaleTolerance * ref.scales[k], name + " scale row " + r + " group " + g);
                assertEquals(ref.zeros[k], got.zeros()[k], name + " zero row " + r + " group " + g);
            }
            for (int j = 0; j < in; j++) {
                int i = r * in + j;
                // zq's dequantised weight uses the fp16 scale: at most 2^-11 relative off the float64 one
                assertEquals(ref.deq[i], got.dequantized()[i], Math.abs(ref.deq[i]) * 5e-4 + 1e-9, name + " deq at " + i);
            }
        }
        return rowsDiverged;
    }

    @Test
    void gptqBeatsRoundToNearestOnCorrelatedInputs() {
        for (int gs : new int[]{-1, 32}) {
            GptqConfig cfg = new GptqConfig(4, gs, false, true, false, 0.01, 128, false);
            QuantizedLinear gptq = new GptqSolver(cfg).quantize("q", LAYER.weight, OUT, IN, LAYER.hessian);
            QuantizedLinear rtn = new RtnQuantizer(cfg).quantize("q", LAYER.weight, OUT, IN);
            assertEquals(null, rtn.report());
            double eg = LAYER.outputError(gptq.dequantized());
            double er = LAYER.outputError(rtn.dequantized());
            assertTrue(eg < 0.5 * er, "gs=" + gs + ": GPTQ output error " + eg + " vs RTN " + er);
        }
    }

    @Test
    void roundToNearestIsThePlainGrid() {
        GptqConfig cfg = new GptqConfig(4, 32, true, false, false, 0.01, 128, false);
        QuantizedLinear rtn = new RtnQuantizer(cfg).quantize("q", LAYER.weight, OUT, IN);
        for (int j = 0; j < IN; j++) assertEquals(j / 32, rtn.gIdx()[j]);
        for (int r = 0; r < OUT; r++) {
            for (int g = 0; g < IN / 32; g++) {
                double lo = 0;
                double hi = 0;
                for (int j = g * 32; j < (g + 1) * 32; j++) {
                    lo = Math.min(lo, LAYER.weight[r * IN + j]);
                    hi = Math.max(hi, LAYER.weight[r * IN + j]);
                }
                double scale = (hi - lo) / 15;
                long zero = Math.round(-lo / scale);
                assertEquals(scale, rtn.scales()[g * OUT + r], 1e-6 * scale);
                assertEquals(zero, rtn.zeros()[g * OUT + r]);
                for (int j = g * 32; j < (g + 1) * 32; j++) {
                    double q = Math.min(15, Math.max(0, Math.rint(LAYER.weight[r * IN + j] / scale) + zero));
                    assertEquals(q, rtn.codes()[r * IN + j], 1e-9, "r=" + r + " j=" + j);
                }
            }
        }
    }

    @Test
    void actOrderGroupIndexFollowsDiagonalRank() {
        GptqConfig cfg = new GptqConfig(4, 32, true, true, false, 0.01, 128, false);
        QuantizedLinear q = new GptqSolver(cfg).quantize("q", LAYER.weight, OUT, IN, LAYER.hessian);
        // g_idx[j] = (rank of column j by decreasing H[j][j]) / 32
        for (int j = 0; j < IN; j++) {
            int rank = 0;
            for (int k = 0; k < IN; k++) {
                if (LAYER.hessian[k * IN + k] > LAYER.hessian[j * IN + j]) rank++;
            }
            assertEquals(rank / 32, q.gIdx()[j], "column " + j);
        }
        boolean monotone = true;
        for (int j = 1; j < IN; j++) monotone &= q.gIdx()[j] >= q.gIdx()[j - 1];
        assertFalse(monotone, "the test layer's diag(H) is uneven, so act-order g_idx must not be monotone");
    }

    @Test
    void deadInputsAreZeroedAndCounted() {
        int in = 64;
        int out = 16;
        Layers l = new Layers(7, out, in, 200);
        float[] x = l.x.clone();
        for (int t = 0; t < l.tokens; t++) {
            x[t * in + 5] = 0f;
            x[t * in + 40] = 0f;
        }
        float[] h = Layers.gram(x, l.tokens, in);
        GptqConfig cfg = new GptqConfig(4, 16, true, true, false, 0.01, 128, false);
        QuantizedLinear q = new GptqSolver(cfg).quantize("q", l.weight, out, in, h);
        assertEquals(2, q.report().deadColumns());
        for (int r = 0; r < out; r++) {
            assertEquals(0f, q.dequantized()[r * in + 5]);
            assertEquals(0f, q.dequantized()[r * in + 40]);
        }
        ReferenceGptq ref = ReferenceGptq.run(l.weight, out, in, h, 16, true, false, true, 0.01, 128);
        assertArrayEquals(ref.gIdx, q.gIdx());
    }

    @Test
    void indefiniteHessianRaisesDampingUntilCholeskyHolds() {
        // H = blockdiag([[1, 2], [2, 1]] x 8): eigenvalues 3 and -1, mean(diag) = 1. H + f·I is positive
        // definite only for f > 1, so the doubling sequence 0.01·2^k first succeeds at k = 7 (f = 1.28).
        int in = 16;
        int out = 8;
        float[] h = InverseHessianTest.indefinitePairs(in);
        float[] w = new Layers(3, out, in, 4).weight;
        // asym: no grid value sits exactly on a rounding tie, so float32 and float64 take the same codes
        GptqConfig cfg = new GptqConfig(4, -1, false, false, false, 0.01, 128, false);
        QuantizedLinear q = new GptqSolver(cfg).quantize("model.layers.3.mlp.gate_proj", w, out, in, h);
        GptqReport rep = q.report();
        assertTrue(rep.dampRaised());
        assertEquals(8, rep.dampAttempts());
        assertEquals(0.01, rep.dampPercentRequested(), 0);
        assertEquals(1.28, rep.dampPercentUsed(), 1e-12);
        assertEquals(1.28f, rep.dampAbsolute(), 1e-6f);
        ReferenceGptq ref = ReferenceGptq.run(w, out, in, h, -1, false, false, false, 1.28, 128);
        assertEquals(0, assertAgreesUpToTies("damped", q, ref, out, in));
    }

    @Test
    void rankDeficientHessianNeedsNoExtraDamping() {
        Layers few = new Layers(9, 16, 128, 40); // 40 tokens: H has rank 40 of 128
        QuantizedLinear q = new GptqSolver(GptqConfig.recommended()).quantize("q", few.weight, 16, 128, few.hessian);
        assertFalse(q.report().dampRaised());
        assertEquals(1, q.report().dampAttempts());
        assertEquals(0.01, q.report().dampPercentUsed(), 0);
    }

    @Test
    void rejectsBadInput() {
        GptqSolver s = new GptqSolver(GptqConfig.recommended());
        IllegalArgumentException gs = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("model.layers.0.mlp.down_proj", new float[8 * 200], 8, 200, new float[200 * 200]));
        assertTrue(gs.getMessage().contains("model.layers.0.mlp.down_proj: group_size 128 does not divide in_features 200"),
                gs.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("l", new float[10], 8, 128, new float[128 * 128]));
        assertTrue(shape.getMessage().contains("weight has 10 elements"), shape.getMessage());
        float[] h = LAYER.hessian.clone();
        h[3 * IN + 7] = Float.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("l", LAYER.weight, OUT, IN, h));
        assertTrue(nan.getMessage().contains("Hessian holds NaN at [3][7]"), nan.getMessage());
        // more weights than one piece of the parallel check (2^20): the first bad one in row-major order is named
        int wideOut = 1024, wideIn = 1536;
        float[] identity = new float[wideIn * wideIn];
        for (int i = 0; i < wideIn; i++) identity[i * wideIn + i] = 1f;
        float[] wide = new float[wideOut * wideIn];
        wide[1000 * wideIn + 3] = Float.NaN;
        IllegalArgumentException late = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("l", wide, wideOut, wideIn, identity));
        assertTrue(late.getMessage().contains("weight holds NaN at [1000][3]"), late.getMessage());
        wide[5 * wideIn + 9] = Float.NEGATIVE_INFINITY;
        IllegalArgumentException first = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("l", wide, wideOut, wideIn, identity));
        assertTrue(first.getMessage().contains("weight holds -Infinity at [5][9]"), first.getMessage());
        float[] neg = new float[IN * IN];
        for (int i = 0; i < IN; i++) neg[i * IN + i] = -1f;
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> s.quantize("l", LAYER.weight, OUT, IN, neg));
        assertTrue(negative.getMessage().contains("mean(diag H)"), negative.getMessage());
    }

    @Test
    void blockSizeDoesNotChangeTheMathForGroupsAlignedToBlocks() {
        // With gs = 32 and block sizes 32 and 64 the group starts coincide with block starts, so both see
        // fully updated weights and must agree with the float64 reference run with the same block size.
        for (int block : new int[]{32, 64}) {
            GptqConfig cfg = new GptqConfig(4, 32, false, true, false, 0.01, block, false);
            QuantizedLinear q = new GptqSolver(cfg).quantize("q", LAYER.weight, OUT, IN, LAYER.hessian);
            ReferenceGptq ref = ReferenceGptq.run(LAYER.weight, OUT, IN, LAYER.hessian, 32, false, false, true, 0.01, block);
            int mismatches = 0;
            for (int i = 0; i < OUT * IN; i++) if (q.codes()[i] != ref.codes[i]) mismatches++;
            assertTrue(mismatches < OUT * IN / 100, "block " + block + ": " + mismatches + " code mismatches");
        }
    }
}
