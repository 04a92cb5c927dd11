package zq.gptq;

/**
 * GPTQ settings for one quantisation run, named and defaulted as in AutoGPTQ's BaseQuantizeConfig.
 *
 * @param bits         code width; only 4 is supported
 * @param groupSize    input columns per (scale, zero) group, or -1 for one group per output row
 * @param descAct      act-order: quantise columns by decreasing diag(H)
 * @param sym          symmetric grid (zero point fixed at 8)
 * @param staticGroups fit every group's grid up front on the unpermuted weights (only with groups)
 * @param dampPercent  damping as a fraction of mean(diag H), AutoGPTQ's damp_percent (0 &lt; p &lt; 1)
 * @param blockSize    columns per lazy-batch block (AutoGPTQ: 128)
 * @param mse          search a shrunk grid that minimises |q - w|^2.4 (off in every reference caller)
 */
public record GptqConfig(int bits, int groupSize, boolean descAct, boolean sym, boolean staticGroups,
                         double dampPercent, int blockSize, boolean mse) {

    public static final int DEFAULT_BLOCK_SIZE = 128;
    public static final double DEFAULT_DAMP_PERCENT = 0.01;

    public GptqConfig {
        if (bits != 4) {
            throw new IllegalArgumentException("bits=" + bits + " is not supported: zq writes 4-bit GPTQ only");
        }
        if (groupSize != -1 && groupSize <= 0) {
            throw new IllegalArgumentException("group_size must be -1 (one group per row) or positive, got " + groupSize);
        }
        if (!(dampPercent > 0 && dampPercent < 1)) {
            throw new IllegalArgumentException("damp_percent must be in (0, 1) as in AutoGPTQ, got " + dampPercent);
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
    }

    /** The settings that load everywhere (docs/gptq.md, "Settings that load everywhere"): 4 bit, g128, sym, no act-order, damp 0.01. */
    public static GptqConfig recommended() {
        return new GptqConfig(4, 128, false, true, false, DEFAULT_DAMP_PERCENT, DEFAULT_BLOCK_SIZE, false);
    }

    /** Largest code value: 2^bits - 1. */
    public int maxq() {
        return (1 << bits) - 1;
    }

    public boolean grouped() {
        return groupSize != -1;
    }

    /** Columns per group for a layer of this width: the whole row when ungrouped. */
    public int effectiveGroupSize(int inFeatures) {
        return grouped() ? groupSize : inFeatures;
    }

    /** Rejects a layer whose input width the group size does not divide (every GPTQ loader needs that). */
    public void checkInFeatures(String layer, int inFeatures) {
        if (inFeatures <= 0) {
            throw new IllegalArgumentException(layer + ": in_features must be positive, got " + inFeatures);
        }
        if (grouped() && inFeatures % groupSize != 0) {
            throw new IllegalArgumentException(layer + ": group_size " + groupSize
                    + " does not divide in_features " + inFeatures);
        }
    }
}
