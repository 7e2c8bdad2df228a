package io.millrace.balance;

/**
 * Which in-flight counts and latency averages a policy compares (set once per group with
 * {@link UpstreamGroupBuilder#statsView}).
 *
 * <p>Each worker keeps its own counts per upstream (one writer, no atomics). {@link #MERGED} sums
 * them across workers at every pick, as nginx does with a shared {@code zone} and as Ribbon's
 * per-client counters do: the most accurate view, at the cost of reading one cache line per worker
 * per candidate. {@link #WORKER} compares this worker's own counts only, as nginx without a
 * {@code zone} does: free, and close enough when connections are spread evenly over workers.
 * Circuit-breaker limits always use the merged counts.
 */
public enum StatsView
{
    /** Sum (in flight) or average (latency) over all workers. */
    MERGED,
    /** This worker's own counts only. */
    WORKER
}
