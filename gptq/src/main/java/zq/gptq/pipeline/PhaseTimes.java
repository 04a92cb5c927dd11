package zq.gptq.pipeline;

import java.util.EnumMap;
import java.util.Map;

/** Wall time spent in each {@link Phase}, accumulated over a run. Not thread-safe: one run, one thread. */
public final class PhaseTimes {
    private final long[] nanos = new long[Phase.values().length];

    public void add(Phase phase, long elapsedNanos) { nanos[phase.ordinal()] += elapsedNanos; }

    public long nanos(Phase phase) { return nanos[phase.ordinal()]; }

    public double seconds(Phase phase) { return nanos(phase) / 1e9; }

    /** Seconds per phase, in phase order. */
    public Map<Phase, Double> asSeconds() {
        Map<Phase, Double> m = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) m.put(p, seconds(p));
        return m;
    }
}
