package zq.gptq.hessian;

import zq.runtime.linalg.OffHeapMatrix;

/**
 * Accumulates a layer's GPTQ Hessian H = (2/N)·Σ x·xᵀ over calibration tokens, as AutoGPTQ's
 * add_batch does: a running average in float32 where each {@link #add} call is one batch,
 * H ← H·n/(n+t) + (2/(n+t))·XᵀX, n ← n+t, with t the batch's token count. (AutoGPTQ counts
 * sequences instead of tokens; GPTQ's result does not change with a positive factor on H.)
 */
public interface HessianAccumulator extends AutoCloseable {

    /** in_features: H is features×features. */
    int features();

    /** Tokens added so far (N). */
    long tokens();

    /**
     * Adds one batch of layer inputs.
     *
     * @param x    [rows][cols] row-major activations, one token per row
     * @param rows tokens in the batch
     * @param cols must equal {@link #features()}
     */
    void add(float[] x, int rows, int cols);

    /** A fresh copy of H, [features][features] row-major and exactly symmetric; all zero before any add. */
    float[] hessian();

    /**
     * H's lower triangle (diagonal included) in native memory that the caller owns and closes; the upper triangle is
     * undefined. No batch may be added afterwards. The CPU accumulator hands over its own matrix, so that H never
     * needs a copy on the Java heap (0.7 GB at 7B's intermediate width, where one contiguous array of that size was
     * what a 3.5 GB heap could not find: docs/memory.md).
     */
    default OffHeapMatrix takeLowerTriangle() {
        return OffHeapMatrix.copyOf(hessian(), features(), features());
    }

    /** Where the products run, for logs and reports (e.g. "OpenBLAS ssyrk", "OpenCL GPU NVIDIA H100"). */
    String device();

    @Override
    void close();
}
