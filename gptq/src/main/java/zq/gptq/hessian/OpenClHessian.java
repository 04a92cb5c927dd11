package zq.gptq.hessian;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.kernel.KernelDeviceProfile;
import com.aparapi.internal.kernel.KernelManager;
import com.aparapi.internal.kernel.KernelProfile;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * H on an OpenCL device through an Aparapi kernel; H stays on the device between batches (explicit
 * buffer management), batches go up in chunks of {@value #CHUNK_ROWS} tokens. GPUs and accelerators
 * get the local-memory tiled kernel ({@link GramKernel}; on an H200 at in=4096, 16384 tokens it ran at
 * 2.0 TFLOP/s against 1.7 for the other), CPU runtimes the register kernel ({@link RowGramKernel}),
 * which needs no local memory or barriers. On POCL both reach only about 10 GFLOP per CPU-second, far
 * below OpenBLAS, which is why {@link HessianBackend#AUTO} uses OpenCL only on a GPU.
 *
 * <p>Aparapi silently falls back to a Java thread pool when OpenCL is missing or a kernel fails to
 * build. That fallback is 100× slower and is never acceptable here: after every execution, Aparapi's
 * own execution record must show that it ran on this OpenCL device, or this class throws.
 * ({@code Kernel.isRunningCL()} alone does not tell: it reports the preferred device, not the one that ran.)
 */
public final class OpenClHessian extends RunningHessian {
    static final int CHUNK_ROWS = 512;
    /** Aparapi records the last device per kernel class, so executions and their checks must not interleave. */
    private static final Object EXECUTION_LOCK = new Object();

    /** Which Aparapi kernel computes the products. */
    public enum Variant {
        /** 64×64 tiles staged in local memory, 4×4 per work-item: for GPUs. */
        TILED,
        /** 8 rows per work-item in registers, no local memory or barriers: for CPUs. */
        ROWS;

        static Variant forDevice(OpenCLDevice d) {
            return d.getType() == Device.TYPE.CPU ? ROWS : TILED;
        }
    }

    private final OpenCLDevice device;
    private final Variant variant;
    private final GramKernelBase kernel;
    private final Range range;
    private final int capacityRows;

    /** An accumulator on {@code device} with the kernel suited to its type. */
    public OpenClHessian(OpenCLDevice device, int features) {
        this(device, features, Variant.forDevice(device));
    }

    public OpenClHessian(OpenCLDevice device, int features, Variant variant) {
        super(features);
        this.device = device;
        this.variant = variant;
        this.capacityRows = Math.max(1, Math.min(CHUNK_ROWS, Integer.MAX_VALUE / features));
        this.kernel = variant == Variant.TILED ? new GramKernel(features, capacityRows)
                : new RowGramKernel(features, capacityRows);
        LinkedHashSet<Device> only = new LinkedHashSet<>(List.of(device));
        KernelManager.instance().setPreferredDevices(kernel, only);
        kernel.setExplicit(true);
        this.range = kernel.range(device);
        kernel.put(kernel.h);
    }

    /** The best OpenCL device: a GPU if there is one, then an accelerator, then a CPU (e.g. POCL). */
    public static OpenCLDevice bestDevice() {
        return pick(availableDevices());
    }

    /** Every OpenCL device Aparapi sees, GPUs first, then accelerators, then CPUs; empty without OpenCL. */
    public static List<OpenCLDevice> availableDevices() {
        List<OpenCLDevice> all = new java.util.ArrayList<>();
        for (Device.TYPE type : new Device.TYPE[]{Device.TYPE.GPU, Device.TYPE.ACC, Device.TYPE.CPU}) {
            try {
                List<OpenCLDevice> found = OpenCLDevice.listDevices(type);
                if (found != null) all.addAll(found);
            } catch (RuntimeException | LinkageError e) {
                // no OpenCL runtime or no ICD: Aparapi cannot list devices of this type
            }
        }
        return all;
    }

    static OpenCLDevice pick(List<OpenCLDevice> devices) {
        if (devices.isEmpty()) {
            throw new IllegalStateException("Hessian backend 'opencl' needs an OpenCL device, and Aparapi found none "
                    + "(is an OpenCL ICD installed? `clinfo -l` lists them); use --hessian cpu or auto");
        }
        return devices.get(0); // availableDevices() orders GPU, ACC, CPU
    }

    @Override
    protected void accumulateLower(float[] x, int rows, float alpha, float beta) {
        float b = beta;
        for (int start = 0; start < rows; start += capacityRows) {
            int chunk = Math.min(capacityRows, rows - start);
            System.arraycopy(x, start * n, kernel.x, 0, chunk * n);
            kernel.rows = chunk;
            kernel.alpha = alpha;
            kernel.beta = b;
            synchronized (EXECUTION_LOCK) {
                kernel.put(kernel.x);
                kernel.execute(range);
                requireRanOn(kernel, device);
            }
            b = 1f; // the running-average decay applies once per batch
        }
    }

    /** Throws unless the kernel's last execution ran on {@code expected}. */
    static void requireRanOn(Kernel k, OpenCLDevice expected) {
        Device ran = lastDevice(k);
        if (!(ran instanceof OpenCLDevice) || !ran.equals(expected)) {
            throw new IllegalStateException("Aparapi did not run the Hessian kernel on OpenCL device "
                    + expected.getShortDescription() + " but on "
                    + (ran == null ? "no recorded device" : ran.getShortDescription())
                    + " (a silent fallback: the OpenCL build or device failed, see Aparapi's log)");
        }
    }

    /** The device of the kernel class's last execution, from Aparapi's execution profile. */
    static Device lastDevice(Kernel k) {
        KernelProfile profile = KernelManager.instance().getProfile(k.getClass());
        KernelDeviceProfile last = profile == null ? null : profile.getLastDeviceProfile();
        if (last == null) return null;
        for (Device d : profile.getDevices()) {
            if (profile.getDeviceProfile(d) == last) return d;
        }
        return null;
    }

    @Override
    public float[] hessian() {
        kernel.get(kernel.h);
        return mirrorLower(kernel.h.clone(), n);
    }

    @Override
    public String device() {
        return "OpenCL " + device.getType() + " " + device.getName() + " (" + variant + " kernel)";
    }

    @Override
    public void close() {
        kernel.dispose();
    }
}
