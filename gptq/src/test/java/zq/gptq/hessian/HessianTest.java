package zq.gptq.hessian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.JavaDevice;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.kernel.KernelManager;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class HessianTest {
    /** Batches of uneven sizes (not multiples of the kernel's 16-token or 64-feature tiles). */
    private static final int FEATURES = 200;
    private static final int[] BATCHES = {37, 300, 5, 700};

    private static float[][] batches(long seed) {
        Random rnd = new Random(seed);
        float[][] out = new float[BATCHES.length][];
        for (int b = 0; b < BATCHES.length; b++) {
            float[] x = new float[BATCHES[b] * FEATURES];
            for (int t = 0; t < BATCHES[b]; t++) {
                double shared = rnd.nextGaussian();
                for (int j = 0; j < FEATURES; j++) {
                    x[t * FEATURES + j] = (float) (0.5 * shared + rnd.nextGaussian() * (1 + j % 7) + 0.3);
                }
            }
            out[b] = x;
        }
        return out;
    }

    /** (2/N)·Σ x·xᵀ over all tokens, in float64. */
    private static double[] float64Hessian(float[][] xs) {
        double[] h = new double[FEATURES * FEATURES];
        long tokens = 0;
        for (float[] x : xs) {
            int rows = x.length / FEATURES;
            tokens += rows;
            for (int t = 0; t < rows; t++) {
                for (int i = 0; i < FEATURES; i++) {
                    double xi = x[t * FEATURES + i];
                    for (int j = 0; j < FEATURES; j++) h[i * FEATURES + j] += xi * x[t * FEATURES + j];
                }
            }
        }
        for (int i = 0; i < h.length; i++) h[i] *= 2.0 / tokens;
        return h;
    }

    private static float[] accumulate(HessianAccumulator acc, float[][] xs) {
        for (float[] x : xs) acc.add(x, x.length / FEATURES, FEATURES);
        return acc.hessian();
    }

    /** max |a - b| / max |b|. */
    private static double relativeError(float[] a, double[] b) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < b.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        return maxDiff / maxRef;
    }

    private static double relativeError(float[] a, float[] b) {
        double[] d = new double[b.length];
        for (int i = 0; i < b.length; i++) d[i] = b[i];
        return relativeError(a, d);
    }

    private static void assertSymmetric(float[] h) {
        for (int i = 0; i < FEATURES; i++) {
            for (int j = 0; j < i; j++) assertEquals(h[i * FEATURES + j], h[j * FEATURES + i], "symmetry at " + i + "," + j);
        }
    }

    @Test
    void cpuMatchesFloat64RunningAverage() {
        float[][] xs = batches(1);
        try (HessianAccumulator cpu = HessianBackend.CPU.open(FEATURES)) {
            assertEquals(0f, cpu.hessian()[0]);
            float[] h = accumulate(cpu, xs);
            assertEquals(1042, cpu.tokens());
            assertSymmetric(h);
            assertTrue(relativeError(h, float64Hessian(xs)) < 1e-5, "CPU vs float64: " + relativeError(h, float64Hessian(xs)));
        }
    }

    /**
     * The lower triangle handed over for the factorisation is the accumulated H (against float64), the accumulator
     * takes no batch after it, and closing both frees the matrix once (the accumulator no longer owns it).
     */
    @Test
    void theCpuAccumulatorHandsOverItsLowerTriangle() {
        float[][] xs = batches(3);
        double[] want = float64Hessian(xs);
        HessianAccumulator cpu = HessianBackend.CPU.open(FEATURES);
        for (float[] x : xs) cpu.add(x, x.length / FEATURES, FEATURES);
        try (zq.runtime.linalg.OffHeapMatrix lower = cpu.takeLowerTriangle()) {
            float[] got = lower.toArray();
            double maxDiff = 0, maxRef = 0;
            for (int i = 0; i < FEATURES; i++) {
                for (int j = 0; j <= i; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(got[i * FEATURES + j] - want[i * FEATURES + j]));
                    maxRef = Math.max(maxRef, Math.abs(want[i * FEATURES + j]));
                }
            }
            // the same float32 ssyrk as cpuMatchesFloat64RunningAverage, so the same tolerance
            assertTrue(maxDiff / maxRef < 1e-5, "lower triangle vs float64: " + maxDiff / maxRef);
            IllegalStateException after = assertThrows(IllegalStateException.class, () -> cpu.add(xs[0], BATCHES[0], FEATURES));
            assertTrue(after.getMessage().contains("already taken"), after.getMessage());
            cpu.close();
        }
    }

    /**
     * The OpenCL devices. Without any, the calling test fails (CI installs POCL), unless the developer
     * set ZQ_ALLOW_NO_OPENCL=1, which turns the failure into a skip.
     */
    private static List<OpenCLDevice> openClDevicesOrSkipIfAllowed() {
        List<OpenCLDevice> devices = OpenClHessian.availableDevices();
        if (devices.isEmpty()) {
            Assumptions.assumeFalse("1".equals(System.getenv("ZQ_ALLOW_NO_OPENCL")),
                    "ZQ_ALLOW_NO_OPENCL=1 and no OpenCL device: the OpenCL Hessian is not checked");
            fail("no OpenCL device found (install pocl-opencl-icd, or set ZQ_ALLOW_NO_OPENCL=1 on a developer machine)");
        }
        return devices;
    }

    /**
     * The OpenCL path must really run on OpenCL. CI installs POCL, so a machine without any OpenCL
     * device fails here; developers can set ZQ_ALLOW_NO_OPENCL=1 to skip instead.
     */
    @Test
    void openClMatchesCpuAndFloat64() {
        List<OpenCLDevice> devices = openClDevicesOrSkipIfAllowed();
        float[][] xs = batches(2);
        float[] cl;
        String device;
        try (HessianAccumulator acc = HessianBackend.OPENCL.open(FEATURES)) {
            device = acc.device();
            cl = accumulate(acc, xs);
        }
        assertTrue(device.startsWith("OpenCL "), device);
        // both kernels, whatever the device: each must be right everywhere even if slow on the other kind
        for (OpenClHessian.Variant v : OpenClHessian.Variant.values()) {
            float[] hv;
            try (HessianAccumulator acc = new OpenClHessian(devices.get(0), FEATURES, v)) {
                hv = accumulate(acc, xs);
            }
            double err = relativeError(hv, float64Hessian(xs));
            System.out.printf("OpenCL %s kernel: rel. error vs float64 %.2g%n", v, err);
            assertTrue(err < 1e-5, v + " kernel vs float64 " + err);
        }
        float[] cpu;
        try (HessianAccumulator acc = HessianBackend.CPU.open(FEATURES)) {
            cpu = accumulate(acc, xs);
        }
        assertSymmetric(cl);
        double vsCpu = relativeError(cl, cpu);
        double vs64 = relativeError(cl, float64Hessian(xs));
        System.out.printf("OpenCL Hessian on %s: rel. error vs BLAS %.2g, vs float64 %.2g%n", device, vsCpu, vs64);
        assertTrue(vsCpu < 1e-5, "OpenCL vs BLAS " + vsCpu);
        assertTrue(vs64 < 1e-5, "OpenCL vs float64 " + vs64);
    }

    @Test
    void aThreadPoolFallbackIsRejected() {
        List<OpenCLDevice> devices = openClDevicesOrSkipIfAllowed();
        Kernel k = new Kernel() {
            final float[] out = new float[64];

            @Override
            public void run() {
                out[getGlobalId()] = getGlobalId();
            }
        };
        try {
            // Aparapi's own way of running a kernel on the Java thread pool: prefer that device
            KernelManager.instance().setPreferredDevices(k, new LinkedHashSet<>(List.of(JavaDevice.THREAD_POOL)));
            k.execute(Range.create(64));
            assertEquals(JavaDevice.THREAD_POOL, OpenClHessian.lastDevice(k));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> OpenClHessian.requireRanOn(k, devices.get(0)));
            assertTrue(e.getMessage().contains("did not run the Hessian kernel on OpenCL"), e.getMessage());
            KernelManager.instance().setPreferredDevices(k, new LinkedHashSet<>(List.of(devices.get(0))));
            k.execute(Range.create(devices.get(0), 64));
            OpenClHessian.requireRanOn(k, devices.get(0));
        } finally {
            k.dispose();
        }
    }

    @Test
    void openClBackendWithoutDevicesFailsClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenClHessian.pick(List.of()));
        assertTrue(e.getMessage().contains("needs an OpenCL device"), e.getMessage());
    }

    @Test
    void backendNamesAndArgumentChecks() {
        assertEquals(HessianBackend.AUTO, HessianBackend.parse("auto"));
        assertEquals(HessianBackend.OPENCL, HessianBackend.parse("opencl"));
        assertEquals(HessianBackend.CPU, HessianBackend.parse("cpu"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HessianBackend.parse("gpu"));
        assertTrue(e.getMessage().contains("'gpu'"), e.getMessage());
        try (HessianAccumulator acc = HessianBackend.AUTO.open(8)) {
            IllegalArgumentException cols = assertThrows(IllegalArgumentException.class, () -> acc.add(new float[9], 1, 9));
            assertTrue(cols.getMessage().contains("9 features"), cols.getMessage());
            assertThrows(IllegalArgumentException.class, () -> acc.add(new float[7], 1, 8));
            assertFalse(acc.device().isEmpty());
        }
    }
}
