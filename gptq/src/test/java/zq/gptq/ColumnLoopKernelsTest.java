package zq.gptq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The SIMD grid step against {@link QuantGrid#code} and {@link QuantGrid#dequantize} (torch.round, half to even, then
 * the clamp), on the values where a rounding shortcut would go wrong: exact halves (a sym group's negative extreme is
 * exactly −7.5), ratios beyond 2²² and beyond fp32's range, and signed zeros.
 */
class ColumnLoopKernelsTest {
    private static final int LANES = 64;

    @Test
    void gridStepIsTheScalarOneBitForBit() {
        assertTrue(zq.runtime.VectorSupport.AVAILABLE, "the test JVM adds jdk.incubator.vector (surefire argLine)");
        assertTrue(ColumnLoopKernels.fits(LANES));
        float[] ratios = {-7.5f, 7.5f, -0.5f, 0.5f, 1.5f, 2.5f, -2.5f, -0f, 0f, 0.49999997f, -8.5f, 6.5f,
                4194303.5f, -4194303.5f, 4194304f, 8388609f, -8388609f, 1e30f, -1e30f, 3.4e38f, -3.4e38f};
        Random random = new Random(5);
        for (int zero : new int[] {8, 0, 3, 15}) {
            int checked = 0;
            for (int round = 0; round < 40; round++) {
                float[] wt = new float[LANES];
                float[] scales = new float[LANES];
                float[] zeros = new float[LANES];
                for (int l = 0; l < LANES; l++) {
                    float scale = round % 2 == 0 ? 0.01f * (1 + l) : (float) Math.pow(10, -random.nextInt(30)) * (1 + random.nextFloat());
                    float ratio = l < ratios.length && round < 2 ? ratios[l] : (float) (random.nextGaussian() * (round % 5 == 0 ? 1e6 : 6));
                    scales[l] = scale;
                    zeros[l] = zero;
                    wt[l] = ratio * scale;
                }
                float d = 0.37f + round;
                float[] et = new float[LANES];
                float[] code = new float[LANES];
                float[] loss = new float[LANES];
                int done = ColumnLoopKernels.quantizeColumn(wt, et, code, loss, 0, scales, zeros, 0, LANES, d, 15);
                assertEquals(LANES, done);
                QuantGrid grid = new QuantGrid(15, true, false);
                for (int l = 0; l < LANES; l++) {
                    int q = grid.code(wt[l], scales[l], zero);
                    float diff = wt[l] - QuantGrid.dequantize(q, scales[l], zero);
                    String at = "x=" + wt[l] + " scale=" + scales[l] + " zero=" + zero;
                    assertEquals(q, (int) code[l], at);
                    assertEquals(Float.floatToIntBits(diff / d), Float.floatToIntBits(et[l]), at);
                    assertEquals(Float.floatToIntBits(diff * diff / (d * d)), Float.floatToIntBits(loss[l]), at);
                    checked++;
                }
            }
            assertEquals(40 * LANES, checked);
        }
        // the inputs hold exact halves, where another rounding rule gives another code: −7.5 is code 0 half to even
        // (−8 + 8), code 1 half up (Math.round gives −7)
        float[] one = new float[LANES];
        float[] unit = new float[LANES];
        float[] eights = new float[LANES];
        java.util.Arrays.fill(one, -7.5f);
        java.util.Arrays.fill(unit, 1f);
        java.util.Arrays.fill(eights, 8f);
        float[] code = new float[LANES];
        ColumnLoopKernels.quantizeColumn(one, new float[LANES], code, new float[LANES], 0, unit, eights, 0, LANES, 1f, 15);
        assertEquals(0, (int) code[0]);
        assertNotEquals((int) code[0], Math.round(-7.5f) + 8);
    }

    @Test
    void partialVectorsAreLeftToTheCaller() {
        float[] wt = new float[LANES];
        float[] scales = new float[LANES];
        java.util.Arrays.fill(scales, 1f);
        int rows = LANES - 3;
        int done = ColumnLoopKernels.quantizeColumn(wt, new float[LANES], new float[LANES], new float[LANES], 0, scales,
                new float[LANES], 0, rows, 1f, 15);
        assertTrue(done <= rows && done > rows - 16 && done % 4 == 0, "done " + done + " of " + rows);
    }
}
