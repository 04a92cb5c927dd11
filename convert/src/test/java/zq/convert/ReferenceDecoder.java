package zq.convert;

import zq.formats.Checkpoint;
import zq.formats.ModelConfig;

/**
 * A plain float64 forward pass of a dense Llama-family decoder, written from the model definitions
 * (RMSNorm, rotate-half RoPE with inv_freq_i = base^(-2i/d), causal grouped-query attention, SwiGLU)
 * for tests to check the runtime against. Zhinao's fused qkv is de-interleaved with the head
 * numbering of docs/formats.md, "Fused qkv_proj". Slow and only for tiny models.
 */
final class ReferenceDecoder {
    private final Checkpoint c;
    private final ModelConfig cfg;
    private final double base;

    /** {@code ropeBase}: the RoPE base to compute with (the config's, or another to compare against). */
    ReferenceDecoder(Checkpoint c, double ropeBase) {
        this.c = c;
        this.cfg = c.config();
        this.base = ropeBase;
    }

    /** Logits [tokens][vocab]. */
    double[][] logits(int[] tokens) {
        int h = cfg.hiddenSize(), n = tokens.length;
        double[] embed = weights("model.embed_tokens.weight");
        double[][] x = new double[n][h];
        for (int t = 0; t < n; t++) for (int i = 0; i < h; i++) x[t][i] = embed[tokens[t] * h + i];
        for (int l = 0; l < cfg.numLayers(); l++) x = layer(l, x);
        double[][] normed = rmsNorm(x, weights("model.norm.weight"));
        String headName = cfg.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        return linear(normed, weights(headName), null, cfg.vocabSize());
    }

    private double[][] layer(int l, double[][] x) {
        String p = "model.layers." + l + ".";
        int heads = cfg.numHeads(), kv = cfg.numKvHeads(), hd = cfg.headDim(), h = cfg.hiddenSize();
        double[][] a = rmsNorm(x, weights(p + "input_layernorm.weight"));
        double[][] q, k, v;
        if (c.has(p + "self_attn.qkv_proj.weight")) {
            double[][] fused = linear(a, weights(p + "self_attn.qkv_proj.weight"), weights(p + "self_attn.qkv_proj.bias"),
                    (heads + 2 * kv) * hd);
            int g = heads / kv;
            q = new double[x.length][heads * hd];
            k = new double[x.length][kv * hd];
            v = new double[x.length][kv * hd];
            for (int t = 0; t < x.length; t++) {
                for (int head = 0; head < heads; head++) {
                    int block = head / g * (g + 2) + head % g;
                    System.arraycopy(fused[t], block * hd, q[t], head * hd, hd);
                }
                for (int j = 0; j < kv; j++) {
                    System.arraycopy(fused[t], (j * (g + 2) + g) * hd, k[t], j * hd, hd);
                    System.arraycopy(fused[t], (j * (g + 2) + g + 1) * hd, v[t], j * hd, hd);
                }
            }
        } else {
            q = linear(a, weights(p + "self_attn.q_proj.weight"), optional(p + "self_attn.q_proj.bias"), heads * hd);
            k = linear(a, weights(p + "self_attn.k_proj.weight"), optional(p + "self_attn.k_proj.bias"), kv * hd);
            v = linear(a, weights(p + "self_attn.v_proj.weight"), optional(p + "self_attn.v_proj.bias"), kv * hd);
        }
        rope(q, heads, hd);
        rope(k, kv, hd);
        double[][] attn = new double[x.length][heads * hd];
        for (int head = 0; head < heads; head++) {
            int kh = head / (heads / kv);
            for (int t = 0; t < x.length; t++) {
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    double dot = 0;
                    for (int i = 0; i < hd; i++) dot += q[t][head * hd + i] * k[u][kh * hd + i];
                    s[u] = dot / Math.sqrt(hd);
                    max = Math.max(max, s[u]);
                }
                double sum = 0;
                for (int u = 0; u <= t; u++) sum += s[u] = Math.exp(s[u] - max);
                for (int u = 0; u <= t; u++) {
                    for (int i = 0; i < hd; i++) attn[t][head * hd + i] += s[u] / sum * v[u][kh * hd + i];
                }
            }
        }
        double[][] o = linear(attn, weights(p + "self_attn.o_proj.weight"), optional(p + "self_attn.o_proj.bias"), h);
        double[][] r = add(x, o);
        double[][] m = rmsNorm(r, weights(p + "post_attention_layernorm.weight"));
        int im = cfg.intermediateSize();
        double[][] gate = linear(m, weights(p + "mlp.gate_proj.weight"), null, im);
        double[][] up = linear(m, weights(p + "mlp.up_proj.weight"), null, im);
        for (int t = 0; t < m.length; t++) {
            for (int i = 0; i < im; i++) gate[t][i] = gate[t][i] / (1 + Math.exp(-gate[t][i])) * up[t][i];
        }
        return add(r, linear(gate, weights(p + "mlp.down_proj.weight"), null, h));
    }

    /** Rotate-half RoPE in place: pairs (i, i + d/2) of each head turn by position·base^(-2i/d). */
    private void rope(double[][] x, int heads, int hd) {
        for (int t = 0; t < x.length; t++) {
            for (int head = 0; head < heads; head++) {
                for (int i = 0; i < hd / 2; i++) {
                    double angle = t * Math.pow(base, -2.0 * i / hd);
                    int a = head * hd + i, b = a + hd / 2;
                    double x1 = x[t][a], x2 = x[t][b];
                    x[t][a] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                    x[t][b] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
                }
            }
        }
    }

    private double[][] rmsNorm(double[][] x, double[] w) {
        double[][] out = new double[x.length][w.length];
        for (int t = 0; t < x.length; t++) {
            double ss = 0;
            for (double d : x[t]) ss += d * d;
            double inv = 1 / Math.sqrt(ss / w.length + cfg.rmsNormEps());
            for (int i = 0; i < w.length; i++) out[t][i] = x[t][i] * inv * w[i];
        }
        return out;
    }

    /** y = x·Wᵀ + b with W stored [out][in]. */
    private static double[][] linear(double[][] x, double[] w, double[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[t][i] * w[o * in + i];
                y[t][o] = s;
            }
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][];
        for (int t = 0; t < a.length; t++) {
            out[t] = new double[a[t].length];
            for (int i = 0; i < a[t].length; i++) out[t][i] = a[t][i] + b[t][i];
        }
        return out;
    }

    private double[] weights(String name) {
        float[] f = c.floats(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private double[] optional(String name) { return c.has(name) ? weights(name) : null; }
}
