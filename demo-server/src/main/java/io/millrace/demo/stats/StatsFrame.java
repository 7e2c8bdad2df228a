package io.millrace.demo.stats;

import io.millrace.metrics.MetricsSnapshot;

import java.util.List;

/**
 * What every section of one rendering of the page sees: the metrics now and the recent history.
 *
 * @param snapshot   the pipeline's metrics, taken for this rendering
 * @param samples    the history, oldest first (possibly empty)
 * @param stageNames the stage names the samples' stage arrays follow
 * @param poolNames  the pool names the samples' pool arrays follow
 * @param nowMillis  the rendering's wall-clock time, epoch milliseconds
 */
public record StatsFrame(MetricsSnapshot snapshot, List<StatsSample> samples, List<String> stageNames,
    List<String> poolNames, long nowMillis)
{
    /**
     * @return the samples' times, oldest first
     */
    public long[] times()
    {
        final long[] t = new long[samples.size()];
        for (int i = 0; i < t.length; i++)
        {
            t[i] = samples.get(i).atMillis();
        }
        return t;
    }

    /**
     * @return the newest sample, or null before the second snapshot
     */
    public StatsSample latest()
    {
        return samples.isEmpty() ? null : samples.get(samples.size() - 1);
    }

    /**
     * @param seconds how far back
     * @return the newest sample at least {@code seconds} older than the latest one, else the oldest;
     *         null without samples
     */
    public StatsSample secondsBefore(final double seconds)
    {
        final StatsSample latest = latest();
        if (latest == null)
        {
            return null;
        }
        for (int i = samples.size() - 1; i >= 0; i--)
        {
            if (latest.atMillis() - samples.get(i).atMillis() >= seconds * 1000)
            {
                return samples.get(i);
            }
        }
        return samples.get(0);
    }
}
