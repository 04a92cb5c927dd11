package zq.gptq.pipeline;

import java.util.EnumMap;
import java.util.Map;

/** Wall time spent in each {@link Phase}, accumulated over a run. Not thread-safe: one run, one thread. */
public final class PhaseTimes {
    private final long[] nanos = new long[Phase.values().length];

    /** Adds the time until {@link Timer#close()} to {@code phase}: {@code try (var t = times.time(Phase.SOLVE)) { … }}. */
    public Timer time(Phase phase) { return new Timer(phase, System.nanoTime()); }

    /** A running measurement of one phase. */
    public final class Timer implements AutoCloseable {
        private final Phase phase;
        private final long start;

        private Timer(Phase phase, long start) {
            this.phase = phase;
            this.start = start;
        }

        /** Seconds since the timer started. */
        public double seconds() { return (System.nanoTime() - start) / 1e9; }

        @Override public void close() { add(phase, System.nanoTime() - start); }
    }

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
