package zq.gptq.hessian;

import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether an OpenCL GPU exists, asked in a child JVM. Aparapi's native library prints warnings straight to the
 * process's stderr when it first enumerates platforms (for instance "untested OpenCL platform version" for every
 * OpenCL 3.0 runtime), which nothing in Java can silence; {@code --hessian auto} must not print them in a run that
 * then uses the CPU, so the question is asked where that stderr is discarded. Without any OpenCL ICD registered,
 * no child is started. Runs {@link #main} as the child.
 */
final class OpenClGpuProbe {
    private static final String GPU = "gpu";
    private static final long TIMEOUT_SECONDS = 30;

    private OpenClGpuProbe() {}

    /** True when Aparapi lists an OpenCL GPU on this machine. */
    static boolean gpuPresent() {
        if (!anyIcdRegistered()) return false;
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), OpenClGpuProbe.class.getName()));
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0 && new String(out).trim().equals(GPU);
        } catch (IOException e) {
            return false; // no child JVM: take the CPU, which always works
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The Khronos ICD loader finds runtimes through OCL_ICD_VENDORS or /etc/OpenCL/vendors/*.icd. */
    private static boolean anyIcdRegistered() {
        if (System.getenv("OCL_ICD_VENDORS") != null || System.getenv("OCL_ICD_FILENAMES") != null) return true;
        Path vendors = Path.of("/etc/OpenCL/vendors");
        if (!Files.isDirectory(vendors)) return !System.getProperty("os.name", "").toLowerCase().contains("linux");
        try (var s = Files.list(vendors)) {
            return s.anyMatch(f -> f.getFileName().toString().endsWith(".icd"));
        } catch (IOException e) {
            return true;
        }
    }

    public static void main(String[] args) {
        boolean gpu = false;
        try {
            List<OpenCLDevice> found = OpenCLDevice.listDevices(Device.TYPE.GPU);
            gpu = found != null && !found.isEmpty();
        } catch (RuntimeException | LinkageError e) {
            // no OpenCL runtime: no GPU
        }
        System.out.println(gpu ? GPU : "none");
    }
}
