package zq.runtime;

import zq.formats.ModelConfig;
import zq.formats.RopeScaling;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rotary position embedding, rotate-half (GPT-NeoX / HF Llama) convention, with the inverse frequencies
 * of transformers' {@code modeling_rope_utils} (docs/formats.md, "RoPE variants"): default, linear, dynamic (NTK), yarn and
 * llama3. As in transformers the inverse frequencies are fp32, the angle {@code position · inv_freq} is an
 * fp32 product, and yarn's attention factor multiplies cos and sin.
 * <p>
 * Dynamic NTK depends on the length of the sequence: the base is recomputed from
 * {@code L = max(seq_len, max_position_embeddings)}, which equals the default RoPE for any sequence no
 * longer than the model's context. A scored window uses its own length; while generating, the length so
 * far (cached keys keep the rotation they were given, as in transformers' dynamic update with a cache).
 */
public final class Rope {
    private final String type;
    private final int dim;
    private final double base;
    private final double factor;
    private final int maxPositions;
    private final float[] fixedInverseFrequencies; // null for dynamic, which depends on the length
    private final double attentionFactor;
    private final Map<Long, Table> tables = new ConcurrentHashMap<>();

    /** cos and sin for positions {@code 0..length-1}: {@code cos[p·half + i]}, attention factor included. */
    public record Table(int length, int half, float[] cos, float[] sin) {}

    private Rope(ModelConfig c) {
        RopeScaling s = c.ropeScaling();
        this.type = s == null ? "default" : s.type();
        this.dim = c.headDim();
        this.base = c.ropeTheta();
        this.factor = s == null ? 1.0 : s.factor();
        if (dim % 2 != 0) throw new IllegalArgumentException(c.source() + ": head_dim " + dim + " is odd; RoPE needs pairs");
        if (!(base > 0)) throw new IllegalArgumentException(c.source() + ": rope_theta " + base + " must be positive");
        if (!type.equals("default") && !(factor > 0)) {
            throw new IllegalArgumentException(c.source() + ": rope_scaling factor " + factor + " must be positive");
        }
        this.maxPositions = s != null && (type.equals("dynamic") || type.equals("yarn"))
                ? (int) s.number("original_max_position_embeddings", c.maxPositionEmbeddings())
                : c.maxPositionEmbeddings();
        switch (type) {
            case "default" -> { fixedInverseFrequencies = toFloats(defaultInverse(base)); attentionFactor = 1.0; }
            case "linear" -> { fixedInverseFrequencies = toFloats(scaled(defaultInverse(base), 1.0 / factor)); attentionFactor = 1.0; }
            case "dynamic" -> { fixedInverseFrequencies = null; attentionFactor = 1.0; }
            case "yarn" -> {
                fixedInverseFrequencies = toFloats(yarn(s));
                attentionFactor = s.has("attention_factor") ? s.number("attention_factor", 1.0)
                        : factor <= 1 ? 1.0 : 0.1 * Math.log(factor) + 1.0;
            }
            case "llama3" -> { fixedInverseFrequencies = toFloats(llama3(s)); attentionFactor = 1.0; }
            default -> throw new IllegalArgumentException(c.source() + ": rope type '" + type + "' is not supported");
        }
    }

    public static Rope of(ModelConfig c) { return new Rope(c); }

    public String type() { return type; }

    public double attentionFactor() { return attentionFactor; }

    /** The fp32 inverse frequencies used for a sequence of {@code seqLen} tokens ({@code head_dim/2} of them). */
    public float[] inverseFrequencies(int seqLen) {
        if (fixedInverseFrequencies != null) return fixedInverseFrequencies.clone();
        int l = Math.max(seqLen, maxPositions);
        double b = base * Math.pow(factor * l / maxPositions - (factor - 1), dim / (dim - 2.0));
        return toFloats(defaultInverse(b));
    }

    /** cos and sin of positions {@code 0..length-1} for a sequence of {@code length} tokens. */
    public Table table(int length) {
        return tables.computeIfAbsent((long) length << 32 | length, key -> buildTable(length, length));
    }

    /**
     * A table covering at least {@code positions} positions (rounded up to a power of two, so that a growing
     * sequence reuses a few tables), with the frequencies of a sequence of {@code sequenceLength} tokens: only
     * dynamic NTK depends on that length, and only beyond {@code max_position_embeddings}.
     */
    public Table table(int positions, int sequenceLength) {
        int rounded = positions <= 64 ? 64 : (int) Math.min(Integer.MAX_VALUE, Long.highestOneBit(positions - 1L) << 1);
        int frequencies = fixedInverseFrequencies != null ? 0 : Math.max(sequenceLength, maxPositions);
        return tables.computeIfAbsent((long) rounded << 32 | frequencies, key -> buildTable(rounded, Math.max(sequenceLength, 1)));
    }

    private Table buildTable(int length, int sequenceLength) {
        float[] inv = inverseFrequencies(sequenceLength);
        int half = dim / 2;
        float[] cos = new float[length * half], sin = new float[length * half];
        float af = (float) attentionFactor;
        for (int p = 0; p < length; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inv[i];
                cos[p * half + i] = (float) Math.cos(angle) * af;
                sin[p * half + i] = (float) Math.sin(angle) * af;
            }
        }
        return new Table(length, half, cos, sin);
    }

    /**
     * Rotates, in place, the rows {@code [row0, row0+table.length)} of {@code x} (row width
     * {@code heads·head_dim}), row {@code row0+p} being position {@code p}.
     */
    public void rotate(float[] x, int row0, int heads, Table t) { rotate(x, row0, t.length(), 0, heads, t); }

    /**
     * Rotates, in place, {@code rows} rows of {@code x} from {@code row0} on (row width {@code heads·head_dim}),
     * row {@code row0+p} being position {@code firstPosition+p}: for each head,
     * {@code x·cos + rotate_half(x)·sin} with {@code rotate_half(x) = [−x₂, x₁]}.
     */
    public void rotate(float[] x, int row0, int rows, int firstPosition, int heads, Table t) {
        if (firstPosition < 0 || firstPosition + rows > t.length()) {
            throw new IllegalArgumentException("positions [" + firstPosition + ", " + (firstPosition + rows) + ") outside a RoPE table of "
                    + t.length());
        }
        int width = heads * dim, half = t.half();
        for (int r = 0; r < rows; r++) {
            int rowBase = (row0 + r) * width, p = firstPosition + r;
            for (int h = 0; h < heads; h++) {
                int b = rowBase + h * dim;
                for (int i = 0; i < half; i++) {
                    float c = t.cos()[p * half + i], s = t.sin()[p * half + i];
                    float x1 = x[b + i], x2 = x[b + i + half];
                    x[b + i] = x1 * c - x2 * s;
                    x[b + i + half] = x2 * c + x1 * s;
                }
            }
        }
    }

    private double[] defaultInverse(double theta) {
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
        return inv;
    }

    private static double[] scaled(double[] v, double by) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] * by;
        return out;
    }

    /** YaRN: a linear ramp over the dimensions between the correction range blends interpolated and original frequencies. */
    private double[] yarn(RopeScaling s) {
        double betaFast = s.number("beta_fast", 32), betaSlow = s.number("beta_slow", 1);
        boolean truncate = !s.has("truncate") || s.raw().get("truncate").asBoolean(true);
        double low = correctionDim(betaFast), high = correctionDim(betaSlow);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001; // as transformers: avoids dividing by zero
        double[] extrapolation = defaultInverse(base);
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double keep = 1 - ramp; // share of the original (extrapolated) frequency
            inv[i] = extrapolation[i] / factor * (1 - keep) + extrapolation[i] * keep;
        }
        return inv;
    }

    private double correctionDim(double rotations) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** Llama 3.1: long wavelengths divided by factor, short kept, a smooth blend in between. */
    private double[] llama3(RopeScaling s) {
        double low = s.number("low_freq_factor", 1), high = s.number("high_freq_factor", 4);
        double old = s.number("original_max_position_embeddings", 8192);
        double lowWavelen = old / low, highWavelen = old / high;
        double[] inv = defaultInverse(base);
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) {
                inv[i] = inv[i] / factor;
            } else if (wavelen >= highWavelen) {
                double smooth = (old / wavelen - low) / (high - low);
                inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
        return inv;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
