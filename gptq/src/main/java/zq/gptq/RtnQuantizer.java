package zq.gptq;

/**
 * Round-to-nearest: every weight goes to its nearest grid value, with the same per-group grid as
 * GPTQ ({@link QuantGrid}) and no calibration. The baseline GPTQ is measured against; g_idx is
 * always j / groupSize and act-order settings are irrelevant.
 */
public final class RtnQuantizer {
    private final GptqConfig config;
    private final QuantGrid grid;

    public RtnQuantizer(GptqConfig config) {
        this.config = config;
        this.grid = QuantGrid.of(config);
    }

    /** Quantises W ([out][in] row-major, not modified); the result's report is null. */
    public QuantizedLinear quantize(String layer, float[] weight, int out, int in) {
        config.checkInFeatures(layer, in);
        if (out <= 0 || weight.length != (long) out * in) {
            throw new IllegalArgumentException(layer + ": weight has " + weight.length + " elements, expected "
                    + out + "x" + in);
        }
        int gs = config.effectiveGroupSize(in);
        int groups = in / gs;
        float[] scales = new float[groups * out];
        int[] zeros = new int[groups * out];
        byte[] codes = new byte[out * in];
        for (int r = 0; r < out; r++) {
            for (int g = 0; g < groups; g++) {
                int from = r * in + g * gs;
                QuantGrid.RowGrid rg = grid.fit(weight, from, gs);
                scales[g * out + r] = rg.scale();
                zeros[g * out + r] = rg.zero();
                for (int j = 0; j < gs; j++) codes[from + j] = (byte) grid.code(weight[from + j], rg.scale(), rg.zero());
            }
        }
        int[] gIdx = new int[in];
        for (int j = 0; j < in; j++) gIdx[j] = j / gs;
        return QuantizedLinear.assemble(layer, out, in, gs, codes, scales, zeros, gIdx, null);
    }
}
