package zq.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.runtime.fixtures.Fixtures;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Products straight from the mapped file against float64 products of the values Checkpoint.floats decodes. */
class MappedMatrixTest {
    @TempDir Path tmp;

    /**
     * The SIMD widening of fp16 against {@link HalfFloats#f16ToFloat} (checked on hand-worked patterns in
     * HalfFloatsTest) for every one of the 65536 bit patterns: subnormals, both zeros, infinities and NaNs included.
     */
    @Test
    void everyHalfWidensExactly() {
        assertTrue(VectorSupport.AVAILABLE, "the test JVM adds jdk.incubator.vector (surefire argLine)");
        for (int h = 0; h < 65536; h++) {
            float expected = HalfFloats.f16ToFloat((short) h);
            float got = VectorKernels.f16((short) h);
            if (Float.isNaN(expected)) assertTrue(Float.isNaN(got), "pattern " + Integer.toHexString(h));
            else assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(got), "pattern " + Integer.toHexString(h));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"})
    void productOfStoredRowsEqualsFloat64Product(DType dtype) throws Exception {
        // hidden 52, intermediate 136: rows shorter than one unrolled step of the paired kernels (26 pairs), and rows
        // of two steps and a remainder (68 pairs), widths not a multiple of 4 either
        ObjectNode cfg = Fixtures.config(Architecture.LLAMA, 52, 136, 1, 4, 2, 70);
        Path dir = Fixtures.synthetic(tmp.resolve("m"), cfg, dtype, 3);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            for (String name : new String[]{"model.layers.0.mlp.down_proj.weight", "scalar:model.layers.0.mlp.down_proj.weight",
                    "lm_head.weight", "scalar:lm_head.weight"}) {
                boolean scalar = name.startsWith("scalar:");
                name = name.replace("scalar:", "");
                MappedMatrix m = scalar ? MappedMatrix.of(ck, name).scalar() : MappedMatrix.of(ck, name);
                float[] w = ck.floats(name);
                float[] x = new float[m.cols()];
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                float[] y = new float[m.rows()];
                m.multiply(x, y);
                float[] row = new float[m.cols()];
                for (int o = 0; o < m.rows(); o++) {
                    double exact = 0, mass = 0;
                    for (int i = 0; i < m.cols(); i++) {
                        exact += (double) w[o * m.cols() + i] * x[i];
                        mass += Math.abs((double) w[o * m.cols() + i] * x[i]);
                    }
                    // fp32 sum of cols products: error ≤ cols·u·Σ|w·x|
                    assertTrue(Math.abs(y[o] - exact) <= m.cols() * 0x1p-24 * mass, name + " row " + o + ": " + y[o] + " vs " + exact);
                    m.row(o, row);
                    for (int i = 0; i < m.cols(); i++) assertEquals(w[o * m.cols() + i], row[i], 0f, name + " row " + o);
                }
                assertEquals((long) m.rows() * m.cols() * dtype.bytes(), m.storedBytes());
            }
        }
    }
}
