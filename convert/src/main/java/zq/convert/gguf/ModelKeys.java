package zq.convert.gguf;

import zq.formats.CheckpointException;
import zq.formats.ModelConfig;
import zq.formats.RopeScaling;
import zq.formats.gguf.GgufMetadata;

/**
 * The hyperparameter keys llama.cpp's loader reads ({@code LLM_KV_*} in src/llama-arch.cpp), from config.json.
 * RoPE scaling: linear and YaRN map to {@code rope.scaling.*} keys; Llama 3's per-frequency rule has no key
 * and is written, as llama.cpp's converter does, as a {@code rope_freqs.weight} tensor of divisors
 * ({@link #llama3Factors}); dynamic NTK, which llama.cpp does not implement, is refused.
 */
final class ModelKeys {
    private ModelKeys() {}

    /** llama.cpp's {@code llama_ftype} of a file whose Linears are {@code linearType}. */
    static long fileType(zq.formats.gguf.GgmlType linearType) {
        return switch (linearType) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case BF16 -> 32;
        };
    }

    static void put(GgufMetadata m, ModelConfig c, GgufArchitecture arch, String name, zq.formats.gguf.GgmlType linearType) {
        String a = arch.name();
        m.putString("general.architecture", a);
        m.putString("general.name", name);
        m.putU32("general.file_type", fileType(linearType));
        if (linearType.isQuantized()) m.putU32("general.quantization_version", 2);
        m.putU32(a + ".vocab_size", c.vocabSize());
        m.putU32(a + ".context_length", c.maxPositionEmbeddings());
        m.putU32(a + ".embedding_length", c.hiddenSize());
        m.putU32(a + ".block_count", c.numLayers());
        m.putU32(a + ".feed_forward_length", c.intermediateSize());
        m.putU32(a + ".attention.head_count", c.numHeads());
        m.putU32(a + ".attention.head_count_kv", c.numKvHeads());
        m.putU32(a + ".attention.key_length", c.headDim());
        m.putU32(a + ".attention.value_length", c.headDim());
        m.putU32(a + ".rope.dimension_count", c.headDim());
        m.putF32(a + ".rope.freq_base", c.ropeTheta());
        m.putF32(a + ".attention.layer_norm_rms_epsilon", c.rmsNormEps());
        RopeScaling s = c.ropeScaling();
        if (s == null || s.type().equals("default") || s.type().equals("llama3")) return;
        switch (s.type()) {
            case "linear" -> {
                m.putString(a + ".rope.scaling.type", "linear");
                m.putF32(a + ".rope.scaling.factor", s.factor());
            }
            case "yarn" -> {
                m.putString(a + ".rope.scaling.type", "yarn");
                m.putF32(a + ".rope.scaling.factor", s.factor());
                m.putU32(a + ".rope.scaling.original_context_length",
                        (long) s.number("original_max_position_embeddings", c.maxPositionEmbeddings()));
                if (s.has("beta_fast")) m.putF32(a + ".rope.scaling.yarn_beta_fast", s.number("beta_fast", 32));
                if (s.has("beta_slow")) m.putF32(a + ".rope.scaling.yarn_beta_slow", s.number("beta_slow", 1));
                if (s.has("attention_factor")) m.putF32(a + ".rope.scaling.attn_factor", s.number("attention_factor", 1));
            }
            default -> throw new CheckpointException(c.source() + ": rope_scaling type '" + s.type()
                    + "' has no llama.cpp equivalent (linear, yarn and llama3 have)");
        }
    }

    /** Whether the config needs a rope_freqs tensor. */
    static boolean needsRopeFreqs(ModelConfig c) { return c.ropeScaling() != null && c.ropeScaling().type().equals("llama3"); }

    /**
     * Llama 3's RoPE scaling as the divisor of each of the head_dim/2 frequencies, the rule of transformers'
     * {@code _compute_llama3_parameters} and llama.cpp's {@code LlamaModel.generate_extra_tensors}: short
     * wavelengths keep their frequency, long ones are divided by factor, the band between is interpolated.
     */
    static float[] llama3Factors(ModelConfig c) {
        RopeScaling s = c.ropeScaling();
        double factor = s.factor(), low = s.number("low_freq_factor", 1), high = s.number("high_freq_factor", 4);
        double old = s.number("original_max_position_embeddings", 8192);
        double lowWavelen = old / low, highWavelen = old / high;
        int dim = c.headDim();
        float[] f = new float[dim / 2];
        for (int i = 0; i < dim / 2; i++) {
            double freq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / dim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1;
            else if (wavelen > lowWavelen) f[i] = (float) factor;
            else {
                double smooth = (old / wavelen - low) / (high - low);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }
}
