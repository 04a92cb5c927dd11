package zq.runtime;

/**
 * Whether the SIMD loops (the decode products' {@link VectorKernels}, the GPTQ column loop's error spread) may run: only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector} (the {@code zq} launcher and the test JVMs are) and
 * {@code -Dzq.vector=false} is not set. This class names no Vector API type, so asking never fails; the
 * scalar loops run otherwise.
 */
public final class VectorSupport {
    public static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("zq.vector"));

    private VectorSupport() {}
}
