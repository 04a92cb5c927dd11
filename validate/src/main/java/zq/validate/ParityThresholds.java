package zq.validate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The limits a candidate must stay within; a null limit is not checked.
 *
 * @param minTop1 a fraction in [0, 1]
 */
public record ParityThresholds(Double maxPplRatio, Double maxKld, Double minTop1) {

    public ParityThresholds {
        if (maxPplRatio != null && !(maxPplRatio > 0)) throw new IllegalArgumentException("--max-ppl-ratio must be positive, got " + maxPplRatio);
        if (maxKld != null && !(maxKld >= 0)) throw new IllegalArgumentException("--max-kld must be ≥ 0, got " + maxKld);
        if (minTop1 != null && !(minTop1 >= 0 && minTop1 <= 1)) {
            throw new IllegalArgumentException("--min-top1 is a fraction between 0 and 1 (e.g. 0.95 for 95 %), got " + minTop1);
        }
    }

    public static ParityThresholds none() { return new ParityThresholds(null, null, null); }

    /** One message per limit the report breaks; empty when all hold. */
    public List<String> failures(ParityReport r) {
        List<String> f = new ArrayList<>();
        if (maxPplRatio != null && !(r.pplRatio() <= maxPplRatio)) {
            f.add(String.format(Locale.ROOT, "ppl ratio %.6f exceeds --max-ppl-ratio %s", r.pplRatio(), maxPplRatio));
        }
        if (maxKld != null && !(r.kldMean() <= maxKld)) {
            f.add(String.format(Locale.ROOT, "mean KLD %.6g exceeds --max-kld %s", r.kldMean(), maxKld));
        }
        if (minTop1 != null && !(r.top1Agreement() >= minTop1)) {
            f.add(String.format(Locale.ROOT, "top-1 agreement %.4f is below --min-top1 %s", r.top1Agreement(), minTop1));
        }
        return f;
    }
}
