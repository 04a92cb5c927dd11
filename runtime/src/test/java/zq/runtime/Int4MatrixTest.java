package zq.runtime;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import zq.formats.gptq.ZeroFormat;
import zq.runtime.fixtures.GptqFixture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused Int4 matrix-vector product against dequantize-then-multiply in float64 over the weights the
 * layout implies (the fixture's plain loops, not {@link zq.formats.gptq.Int4Layout}), with act-order g_idx and with
 * groups in input order (the one-scale-per-word path).
 */
class Int4MatrixTest {

    @ParameterizedTest(name = "in {0}, out {1}, group size {2}, act-order {3}, v1 zeros {4}")
    @CsvSource({"256, 136, 32, true, true", "256, 136, 32, false, false", "96, 64, -1, false, true",
            "200, 24, 40, true, false", "200, 48, 40, false, false", "128, 1000, 8, true, true", "4096, 256, 128, false, true",
            "96, 40, 12, true, true"})
    void fusedProductEqualsDequantizeThenMultiply(int in, int out, int groupSize, boolean actOrder, boolean v1) {
        GptqFixture f = GptqFixture.random(in, out, groupSize, v1 ? 1 : 0, in * 31L + out);
        if (!actOrder) f = inInputOrder(f, groupSize);
        float[] x = new float[in];
        SplittableRandom r = new SplittableRandom(5);
        for (int k = 0; k < in; k++) x[k] = (float) r.nextGaussian();
        ByteBuffer words = ByteBuffer.allocate(4 * f.qweight().length).order(ByteOrder.LITTLE_ENDIAN);
        words.asIntBuffer().put(f.qweight());
        Int4Matrix m = new Int4Matrix("test", words, f.qzeros(v1), f.scalesFlat(), f.gIdx(), in, out,
                v1 ? ZeroFormat.GPTQ_V1 : ZeroFormat.GPTQ_V2);
        ZeroFormat format = v1 ? ZeroFormat.GPTQ_V1 : ZeroFormat.GPTQ_V2;
        Int4Matrix asStored = new Int4Matrix("as stored", words, f.qzeros(v1), f.scalesFlat(), f.gIdx(), in, out, format, false);
        assertEquals(!actOrder, m.groupsFollowInputs(), "the checkpoint's order");
        // act-order is repacked with inputs sorted by group whenever every group is a multiple of 8 inputs (not 12)
        assertEquals(groupSize <= 0 || groupSize % 8 == 0, m.oneScalePerWord(), "which path runs after regrouping");
        assertEquals(!actOrder, asStored.oneScalePerWord(), "which path runs without regrouping");
        assertTrue(VectorSupport.AVAILABLE, "the test JVM adds jdk.incubator.vector (surefire argLine), so both loops are tested");
        double[] bound = roundingBound(f, x);
        double[] exact = exact(f, x, f.gIdx());
        float[] y = new float[out];
        for (Int4Matrix product : new Int4Matrix[]{m, new Int4Matrix("scalar", words, f.qzeros(v1), f.scalesFlat(), f.gIdx(), in, out,
                format).scalar(), asStored, new Int4Matrix("as stored, scalar", words, f.qzeros(v1), f.scalesFlat(), f.gIdx(), in, out,
                format, false).scalar()}) {
            product.multiply(x, y);
            for (int n = 0; n < out; n++) {
                assertTrue(Math.abs(y[n] - exact[n]) <= bound[n], "column " + n + ": " + y[n] + " vs " + exact[n] + " (bound " + bound[n] + ")");
            }
        }
        m.multiply(x, y);
        if (actOrder) {
            // the wrong reading of g_idx (groups in input order) misses by far more than rounding
            double[] wrong = exact(f, x, inInputOrder(f, groupSize).gIdx());
            int beyond = 0;
            for (int n = 0; n < out; n++) if (Math.abs(y[n] - wrong[n]) > bound[n]) beyond++;
            assertTrue(beyond > out / 2, "ignoring g_idx would pass for " + (out - beyond) + " of " + out + " columns");
        }
        assertFalse(Double.isNaN(y[0]));
    }

    /** Σ_k x[k]·W[n][k] in float64 from the codes, zeros and scales, groups read through {@code gIdx}. */
    private static double[] exact(GptqFixture f, float[] x, int[] gIdx) {
        double[] y = new double[f.out()];
        for (int n = 0; n < f.out(); n++) {
            for (int k = 0; k < f.in(); k++) {
                int g = gIdx[k];
                y[n] += (double) x[k] * f.scales()[g][n] * (f.codes()[k][n] - f.zeros()[g][n]);
            }
        }
        return y;
    }

    /**
     * The product sums in + G + 8 fp32 terms per column, each of magnitude at most |x|·s·(q + z), along two
     * chains whose difference is returned: the standard bound (terms)·u·Σ|term|, u = 2⁻²⁴, covers the
     * rounding of every product and sum.
     */
    private static double[] roundingBound(GptqFixture f, float[] x) {
        double u = Math.ulp(1f) / 2;
        double[] b = new double[f.out()];
        for (int n = 0; n < f.out(); n++) {
            double mass = 0;
            for (int k = 0; k < f.in(); k++) {
                int g = f.gIdx()[k];
                mass += Math.abs(x[k]) * f.scales()[g][n] * (f.codes()[k][n] + f.zeros()[g][n]);
            }
            b[n] = (f.in() + f.groups() + 8) * u * mass;
        }
        return b;
    }

    /** The same codes with groups assigned in input order, k / groupSize (no act-order). */
    private static GptqFixture inInputOrder(GptqFixture f, int groupSize) {
        int gs = groupSize <= 0 ? f.in() : groupSize;
        int[] g = new int[f.in()];
        for (int k = 0; k < f.in(); k++) g[k] = k / gs;
        return new GptqFixture(f.in(), f.out(), f.groups(), f.codes(), f.zeros(), f.scales(), g);
    }
}
