package zq.runtime;

import zq.formats.LinearRef;

/**
 * One Linear of a decoder layer as dense fp32: {@code weight} row-major {@code [out][in]} as PyTorch
 * stores it, {@code bias} of length {@code out} or null. The arrays are the caller's to change: a
 * GPTQ pass swaps in fake-quantized weights with {@link #withWeight}.
 */
public record Linear(LinearRef ref, float[] weight, float[] bias) {

    public Linear {
        long expected = (long) ref.outFeatures() * ref.inFeatures();
        if (weight.length != expected) {
            throw new IllegalArgumentException(ref.prefix() + ": weight has " + weight.length + " values, expected ["
                    + ref.outFeatures() + ", " + ref.inFeatures() + "]");
        }
        if (bias != null && bias.length != ref.outFeatures()) {
            throw new IllegalArgumentException(ref.prefix() + ": bias has " + bias.length + " values, expected " + ref.outFeatures());
        }
    }

    public int inFeatures() { return ref.inFeatures(); }

    public int outFeatures() { return ref.outFeatures(); }

    /** The same Linear (same bias) with another weight. */
    public Linear withWeight(float[] newWeight) { return new Linear(ref, newWeight, bias); }
}
