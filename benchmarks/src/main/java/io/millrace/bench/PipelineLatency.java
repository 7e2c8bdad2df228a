package io.millrace.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Per-request latency of {@link PipelineBenchmark}, submit to completion, in nanoseconds. Every
 * variant records through here from the thread that completes the request; {@link LatencyProfiler}
 * reads an interval histogram per JMH iteration.
 *
 * <p>Threading: any number of writers ({@link Recorder} is wait-free for them); one reader, the
 * profiler, between iterations. JMH runs each benchmark in its own forked JVM, so the one static
 * recorder only ever holds one benchmark's requests.
 */
final class PipelineLatency
{
    private static final Recorder RECORDER = new Recorder(3);
    private static Histogram interval;

    private PipelineLatency()
    {
    }

    static void record(final long nanos)
    {
        RECORDER.recordValue(Math.max(0, nanos));
    }

    /** Forgets what was recorded so far (before an iteration). */
    static synchronized void reset()
    {
        interval = RECORDER.getIntervalHistogram(interval);
        interval.reset();
    }

    /**
     * @return what was recorded since the last call or {@link #reset()}; valid until the next call
     */
    static synchronized Histogram interval()
    {
        interval = RECORDER.getIntervalHistogram(interval);
        return interval;
    }
}
