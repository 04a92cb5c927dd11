package zq.gptq.hessian;

import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.kernel.KernelManager;

/** Where Hessians are accumulated: {@code auto}, {@code opencl} or {@code cpu}. */
public enum HessianBackend {
    /** OpenCL when Aparapi's best device is a GPU, otherwise BLAS on the CPU. */
    AUTO,
    /** An OpenCL device (GPU first; a CPU runtime such as POCL is accepted); an error when there is none. */
    OPENCL,
    /** OpenBLAS ssyrk. */
    CPU;

    public static HessianBackend parse(String name) {
        for (HessianBackend b : values()) {
            if (b.name().equalsIgnoreCase(name.trim())) return b;
        }
        throw new IllegalArgumentException("unknown Hessian backend '" + name + "'; expected auto, opencl or cpu");
    }

    /**
     * The backend a run uses: AUTO becomes OPENCL when an OpenCL GPU is present ({@link OpenClGpuProbe}, which keeps
     * Aparapi's native warnings off this process's stderr) and CPU otherwise; OPENCL is checked to have a device.
     *
     * @throws IllegalArgumentException for OPENCL without any OpenCL device
     */
    public HessianBackend resolve() {
        return switch (this) {
            case CPU -> CPU;
            case AUTO -> OpenClGpuProbe.gpuPresent() ? OPENCL : CPU;
            case OPENCL -> {
                try {
                    OpenClHessian.bestDevice();
                } catch (IllegalStateException noDevice) {
                    throw new IllegalArgumentException(noDevice.getMessage(), noDevice);
                }
                yield OPENCL;
            }
        };
    }

    /** A new, empty accumulator for a layer with this many input features. */
    public HessianAccumulator open(int features) {
        return switch (this) {
            case CPU -> new CpuHessian(features);
            case OPENCL -> new OpenClHessian(OpenClHessian.bestDevice(), features);
            case AUTO -> {
                Device best = bestAparapiDevice();
                yield best instanceof OpenCLDevice gpu && best.getType() == Device.TYPE.GPU
                        ? new OpenClHessian(gpu, features)
                        : new CpuHessian(features);
            }
        };
    }

    private static Device bestAparapiDevice() {
        try {
            return KernelManager.instance().bestDevice();
        } catch (RuntimeException | LinkageError e) {
            return null; // Aparapi could not initialise OpenCL at all
        }
    }
}
