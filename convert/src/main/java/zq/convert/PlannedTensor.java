package zq.convert;

import zq.formats.DType;

/**
 * One tensor of the output checkpoint: its name, shape and where its elements come from.
 * {@code fixedDtype} marks tensors whose dtype a conversion must not change (GPTQ's packed integers,
 * and the fp16 scales and biases AutoGPTQ's kernels expect).
 */
record PlannedTensor(String name, long[] shape, Gather gather, boolean fixedDtype) {

    /** The dtype written: {@code requested} for floating-point tensors that may change, else the source dtype. */
    DType outputDtype(DType requested) {
        DType source = gather.sourceDtype();
        return requested == null || fixedDtype || !source.isFloatingPoint() ? source : requested;
    }
}
