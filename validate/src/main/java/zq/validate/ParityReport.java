package zq.validate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a candidate model's next-token distributions compare with a baseline's on the same windows, in
 * the spirit of {@code llama-perplexity --kl-divergence} ({@code ggml-org/llama.cpp: tools/perplexity/perplexity.cpp}, {@code kl_divergence}): perplexity of each and their
 * ratio, KL(baseline ‖ candidate) per predicted token (mean and percentiles), how often both put the
 * same token first, and the RMS of Δp = p_candidate(correct) − p_baseline(correct).
 * Percentiles are nearest-rank on the sorted per-token values: index {@code round(q·(n−1))}.
 */
public record ParityReport(double pplBaseline, double pplCandidate, double kldMean, double kldMedian, double kldP90,
                           double kldP95, double kldP99, double kldP999, double kldMax, double top1Agreement,
                           double meanDeltaP, double rmsDeltaP, long tokens, int windows, int seqLen) {

    public double pplRatio() { return pplCandidate / pplBaseline; }

    /** @param kld per predicted token; {@code top1Same} positions where the argmaxes agree; Δp sums over all tokens */
    static ParityReport of(double pplBaseline, double pplCandidate, double[] kld, long top1Same, double sumDeltaP,
                           double sumDeltaP2, int windows, int seqLen) {
        int n = kld.length;
        double sum = 0;
        for (double k : kld) sum += k;
        double[] sorted = kld.clone();
        Arrays.sort(sorted);
        return new ParityReport(pplBaseline, pplCandidate, sum / n, percentile(sorted, 0.5), percentile(sorted, 0.9),
                percentile(sorted, 0.95), percentile(sorted, 0.99), percentile(sorted, 0.999), sorted[n - 1],
                (double) top1Same / n, sumDeltaP / n, Math.sqrt(sumDeltaP2 / n), n, windows, seqLen);
    }

    private static double percentile(double[] sorted, double q) {
        return sorted[(int) Math.round(q * (sorted.length - 1))];
    }

    /** The report plus the verdict: {@code failures} lists each threshold that does not hold. */
    public ObjectNode toJson(List<String> failures) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("ppl_baseline", pplBaseline);
        o.put("ppl_candidate", pplCandidate);
        o.put("ppl_ratio", pplRatio());
        o.put("kld_mean", kldMean);
        o.put("kld_median", kldMedian);
        o.put("kld_p90", kldP90);
        o.put("kld_p95", kldP95);
        o.put("kld_p99", kldP99);
        o.put("kld_p99_9", kldP999);
        o.put("kld_max", kldMax);
        o.put("top1_agreement", top1Agreement);
        o.put("mean_delta_p", meanDeltaP);
        o.put("rms_delta_p", rmsDeltaP);
        o.put("tokens", tokens);
        o.put("windows", windows);
        o.put("seqlen", seqLen);
        o.put("pass", failures.isEmpty());
        ArrayNode f = o.putArray("failures");
        failures.forEach(f::add);
        return o;
    }

    public String toText(List<String> failures) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%d predicted tokens, %d windows of seqlen %d%n", tokens, windows, seqLen));
        b.append("====== Perplexity statistics ======\n");
        b.append(line("Mean PPL(Q)", "%.6f", pplCandidate));
        b.append(line("Mean PPL(base)", "%.6f", pplBaseline));
        b.append(line("Mean PPL(Q)/PPL(base)", "%.6f", pplRatio()));
        b.append("====== KL divergence statistics ======\n");
        b.append(line("Mean    KLD", "%.6f", kldMean));
        b.append(line("Maximum KLD", "%.6f", kldMax));
        b.append(line("99.9%   KLD", "%.6f", kldP999));
        b.append(line("99.0%   KLD", "%.6f", kldP99));
        b.append(line("95.0%   KLD", "%.6f", kldP95));
        b.append(line("90.0%   KLD", "%.6f", kldP90));
        b.append(line("Median  KLD", "%.6f", kldMedian));
        b.append("====== Token probability statistics ======\n");
        b.append(line("Mean    Δp", "%.3f %%", 100 * meanDeltaP));
        b.append(line("RMS Δp", "%.3f %%", 100 * rmsDeltaP));
        b.append(line("Same top p", "%.3f %%", 100 * top1Agreement));
        if (failures.isEmpty()) {
            b.append("PASS\n");
        } else {
            for (String f : failures) b.append("FAIL: ").append(f).append('\n');
        }
        return b.toString();
    }

    private static String line(String label, String format, double value) {
        return String.format(Locale.ROOT, "%-22s: " + format + "%n", label, value);
    }
}
