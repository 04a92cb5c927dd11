package zq.gptq;

import java.util.Random;

/** Random layers with correlated inputs, and float64 helpers, for the solver tests. */
final class Layers {
    final int out;
    final int in;
    final int tokens;
    final float[] weight; // [out][in]
    final float[] x;      // [tokens][in]
    final float[] hessian; // (2/N)·XᵀX computed in float64, rounded to float

    Layers(long seed, int out, int in, int tokens) {
        this.out = out;
        this.in = in;
        this.tokens = tokens;
        Random rnd = new Random(seed);
        weight = new float[out * in];
        for (int i = 0; i < weight.length; i++) weight[i] = (float) (0.02 * rnd.nextGaussian());
        for (int k = 0; k < out; k++) weight[rnd.nextInt(weight.length)] *= 8; // a few outliers
        // AR(1) features with a few shared latent factors and per-feature scales: strongly correlated
        // inputs with an uneven diag(H), as in real LLM layers
        double[] featScale = new double[in];
        for (int j = 0; j < in; j++) featScale[j] = Math.exp(rnd.nextGaussian() * 0.7);
        int factors = 4;
        double[][] load = new double[factors][in];
        for (double[] f : load) for (int j = 0; j < in; j++) f[j] = rnd.nextGaussian();
        x = new float[tokens * in];
        for (int t = 0; t < tokens; t++) {
            double[] z = new double[factors];
            for (int f = 0; f < factors; f++) z[f] = rnd.nextGaussian() * 2;
            double prev = 0;
            for (int j = 0; j < in; j++) {
                double v = 0.8 * prev + rnd.nextGaussian();
                prev = v;
                double s = v;
                for (int f = 0; f < factors; f++) s += z[f] * load[f][j];
                x[t * in + j] = (float) (s * featScale[j]);
            }
        }
        hessian = gram(x, tokens, in);
    }

    static float[] gram(float[] x, int tokens, int in) {
        float[] h = new float[in * in];
        for (int i = 0; i < in; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int t = 0; t < tokens; t++) s += (double) x[t * in + i] * x[t * in + j];
                h[i * in + j] = (float) (2.0 / tokens * s);
                h[j * in + i] = h[i * in + j];
            }
        }
        return h;
    }

    /** ||(W − Q)·Xᵀ||² in float64: the layer output error GPTQ minimises. */
    double outputError(float[] q) {
        double total = 0;
        double[] d = new double[in];
        for (int r = 0; r < out; r++) {
            for (int j = 0; j < in; j++) d[j] = (double) weight[r * in + j] - q[r * in + j];
            for (int t = 0; t < tokens; t++) {
                double s = 0;
                for (int j = 0; j < in; j++) s += d[j] * x[t * in + j];
                total += s * s;
            }
        }
        return total;
    }
}
