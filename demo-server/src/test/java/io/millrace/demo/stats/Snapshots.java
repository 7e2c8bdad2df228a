package io.millrace.demo.stats;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;

import org.HdrHistogram.Histogram;

import java.util.List;

/** Test helper: metrics snapshots with chosen numbers. */
final class Snapshots
{
    private Snapshots()
    {
    }

    /** A histogram of the pipeline's kind holding {@code count} copies of {@code nanos}. */
    static Histogram histogram(final long count, final long nanos)
    {
        final Histogram h = new Histogram(1, 60_000_000_000L, 2);
        if (count > 0)
        {
            h.recordValueWithCount(nanos, count);
        }
        return h;
    }

    /**
     * One stage "work" that has seen {@code requests} requests taking {@code serviceNanos} each, one
     * worker with ring depth {@code depth}, and its context pool at {@code hits} and {@code misses}.
     */
    static MetricsSnapshot of(final String stage, final long requests, final long serviceNanos, final long depth,
        final long hits, final long misses)
    {
        final StageMetrics s = new StageMetrics(stage, "inline", 0, requests, requests, 0, 0,
            histogram(requests, serviceNanos), histogram(0, 0));
        final WorkerMetrics w = new WorkerMetrics(0, "w-0", depth, 1024, requests, requests, requests, 1, new Histogram(2), 0,
            0, 0, requests, 0, 0, 0, 0, new PoolStats("w-0-contexts", hits, misses, 0, 0, 0, 0, 0, 0, 0), null);
        return new MetricsSnapshot(0, 2048, 0, 0, histogram(requests, serviceNanos * 3), List.of(s), List.of(w), null);
    }
}
