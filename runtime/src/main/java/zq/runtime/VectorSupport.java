package zq.runtime;

/**
 * Whether the decode products may use {@link VectorKernels}: only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector} (the {@code zq} launcher and the test JVMs are) and
 * {@code -Dzq.vector=false} is not set. This class names no Vector API type, so asking never fails; the
 * scalar loops run otherwise.
 */
final class VectorSupport {
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("zq.vector"));

    private VectorSupport() {}
}
