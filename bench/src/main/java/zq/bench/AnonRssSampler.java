package zq.bench;

import zq.gptq.pipeline.PeakMemory;

/** Polls {@link PeakMemory#rssAnonBytes()} on a daemon thread and keeps the largest value seen. */
final class AnonRssSampler implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long peak = PeakMemory.rssAnonBytes();

    AnonRssSampler(long periodMillis) {
        thread = new Thread(() -> {
            while (running) {
                peak = Math.max(peak, PeakMemory.rssAnonBytes());
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "zq-rss-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** The largest anonymous RSS sampled so far, this moment included. */
    long peakBytes() {
        peak = Math.max(peak, PeakMemory.rssAnonBytes());
        return peak;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
