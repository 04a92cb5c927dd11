package zq.validate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/**
 * Perplexity of a model on a token stream: {@code exp(Σ nll / Σ predicted)}.
 *
 * @param tokens  predicted tokens (each window's first token is context only)
 * @param nllSum  Σ −log p(token), natural log
 */
public record PerplexityResult(double ppl, long tokens, int windows, int seqLen, double nllSum) {

    public double meanNll() { return nllSum / tokens; }

    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("ppl", ppl);
        o.put("tokens", tokens);
        o.put("windows", windows);
        o.put("seqlen", seqLen);
        o.put("nll_mean", meanNll());
        return o;
    }

    public String toText() {
        return String.format(Locale.ROOT, "PPL = %.4f  (mean NLL %.6f over %d predicted tokens, %d windows of seqlen %d)",
                ppl, meanNll(), tokens, windows, seqLen);
    }
}
