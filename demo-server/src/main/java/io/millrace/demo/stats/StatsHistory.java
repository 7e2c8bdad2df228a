package io.millrace.demo.stats;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;

/**
 * The last few minutes of a pipeline's metrics, as a fixed ring of {@link StatsSample}s: each
 * {@link #record} turns the difference between the previous snapshot and this one into a sample
 * (rates per second, interval percentiles from the histograms' difference) and overwrites the
 * oldest sample once the ring is full.
 *
 * <p>Memory is bounded: {@code capacity} samples of a few small arrays each, the previous snapshot
 * (its histogram copies) and one scratch histogram per stage, reused for every difference.
 *
 * <p>Threading: {@link #record} runs on the sampler's thread, {@link #samples()} on the thread
 * rendering the page; both synchronise on this object. Neither runs on a hot path.
 */
public final class StatsHistory
{
    private final StatsSample[] ring;
    private int next;
    private int size;
    private MetricsSnapshot previous;
    private long previousNanos;
    private Histogram[] scratch = new Histogram[0];
    private Histogram endToEndScratch;
    private List<String> stageNames = List.of();
    private List<String> poolNames = List.of();

    /**
     * @param capacity samples kept; at one a second, 300 is five minutes
     */
    public StatsHistory(final int capacity)
    {
        if (capacity < 2)
        {
            throw new IllegalArgumentException("a stats history needs at least 2 samples, was " + capacity);
        }
        this.ring = new StatsSample[capacity];
    }

    /**
     * @return most samples kept
     */
    public int capacity()
    {
        return ring.length;
    }

    /**
     * Adds the interval since the previous call as a sample; the first call only remembers the
     * snapshot. A snapshot whose stages or pools differ from the previous one's starts the history again.
     *
     * @param snapshot  the pipeline's metrics now
     * @param nanoTime  {@link System#nanoTime()} when it was taken
     * @param atMillis  the wall-clock time, epoch milliseconds
     */
    public synchronized void record(final MetricsSnapshot snapshot, final long nanoTime, final long atMillis)
    {
        final MetricsSnapshot before = previous;
        final double seconds = (nanoTime - previousNanos) / 1e9;
        previous = snapshot;
        previousNanos = nanoTime;
        final List<String> stages = snapshot.stages().stream().map(StageMetrics::name).toList();
        if (before == null || !stages.equals(stageNames) || pools(before).size() != pools(snapshot).size())
        {
            stageNames = stages;
            poolNames = pools(snapshot).stream().map(PoolStats::name).toList();
            scratch = new Histogram[stages.size()];
            size = 0;
            next = 0;
            return;
        }
        if (seconds <= 0)
        {
            return;
        }
        final int n = stages.size();
        final double[] requests = new double[n];
        final long[] p99 = new long[n];
        for (int i = 0; i < n; i++)
        {
            final StageMetrics now = snapshot.stages().get(i);
            final StageMetrics then = before.stages().get(i);
            requests[i] = Math.max(0, now.requests() - then.requests()) / seconds;
            scratch[i] = difference(scratch[i], now.serviceTimeNanos(), then.serviceTimeNanos());
            p99[i] = scratch[i].getTotalCount() == 0 ? 0 : scratch[i].getValueAtPercentile(99);
        }
        endToEndScratch = difference(endToEndScratch, snapshot.endToEndNanos(), before.endToEndNanos());
        final long completed = Math.max(0, snapshot.completed() + snapshot.failed() - before.completed() - before.failed());
        final long[] depth = new long[snapshot.workers().size()];
        for (int w = 0; w < depth.length; w++)
        {
            depth[w] = snapshot.workers().get(w).ringDepth();
        }
        final List<PoolStats> pools = pools(snapshot);
        final long[] hits = new long[pools.size()];
        final long[] misses = new long[pools.size()];
        for (int p = 0; p < hits.length; p++)
        {
            hits[p] = pools.get(p).hits();
            misses[p] = pools.get(p).misses();
        }
        ring[next] = new StatsSample(atMillis, seconds, completed / seconds,
            endToEndScratch.getTotalCount() == 0 ? 0 : endToEndScratch.getValueAtPercentile(99), requests, p99, depth,
            hits, misses);
        next = (next + 1) % ring.length;
        size = Math.min(size + 1, ring.length);
    }

    /**
     * @return the samples, oldest first (a copy of the list; the samples are immutable by convention)
     */
    public synchronized List<StatsSample> samples()
    {
        final List<StatsSample> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++)
        {
            out.add(ring[(next - size + i + ring.length) % ring.length]);
        }
        return out;
    }

    /**
     * @return the snapshot of the last {@link #record} call, or null before the first; the stats page
     *         shows it rather than take one of its own on a worker thread (see {@link StatsPage})
     */
    public synchronized MetricsSnapshot latestSnapshot()
    {
        return previous;
    }

    /**
     * @return the stage names the samples' arrays follow
     */
    public synchronized List<String> stageNames()
    {
        return stageNames;
    }

    /**
     * @return the pool names the samples' pool arrays follow
     */
    public synchronized List<String> poolNames()
    {
        return poolNames;
    }

    /**
     * The workers' own pools, worker by worker: each worker's request contexts, then its buffer
     * chunks if it has an allocator.
     *
     * @param snapshot a pipeline's metrics
     * @return its pools, in the order the samples keep them
     */
    static List<PoolStats> pools(final MetricsSnapshot snapshot)
    {
        final List<PoolStats> pools = new ArrayList<>();
        for (final WorkerMetrics w : snapshot.workers())
        {
            if (w.contextPool() != null)
            {
                pools.add(w.contextPool());
            }
            if (w.bufferChunks() != null)
            {
                pools.add(w.bufferChunks());
            }
        }
        return pools;
    }

    /** {@code now - then} into {@code into} (created on first use, then reused). */
    private static Histogram difference(final Histogram into, final Histogram now, final Histogram then)
    {
        final Histogram d = into != null ? into : new Histogram(now.getLowestDiscernibleValue(),
            now.getHighestTrackableValue(), now.getNumberOfSignificantValueDigits());
        d.reset();
        d.add(now);
        try
        {
            d.subtract(then);
        }
        catch (final IllegalArgumentException ex)
        {
            // Histograms only grow, so this means the pipeline was replaced: no interval to show.
            d.reset();
        }
        return d;
    }
}
