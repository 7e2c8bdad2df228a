package io.millrace.demo.http;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Renders a {@link MetricsSnapshot} and lookaside-pool counters in the Prometheus text exposition
 * format 0.0.4, for a {@code /metrics} endpoint.
 *
 * <p>Each family is written once: its {@code # HELP} and {@code # TYPE} lines, then all its samples
 * together; a family with no samples (no pools, say) is left out. Times are in seconds, counters end
 * in {@code _total}. Labels: {@code stage}, {@code worker} (the worker's index), {@code pool}: each
 * worker's own pools are {@code pool="contexts"} (request contexts) and {@code pool="chunks"} (its
 * buffer allocator's chunks) with a {@code worker} label; pools passed in are labelled by their key alone.
 *
 * <p>Service times become a histogram with fixed buckets from 1 microsecond to 5 seconds, counted
 * from the snapshot's HdrHistogram, which keeps two significant digits: a time within about 1% above
 * a bucket's bound may be counted in that bucket. HdrHistogram keeps no exact total either, so
 * {@code _sum} is the histogram's mean times its count, exact to the same precision. End-to-end
 * latency and per-stage queue wait become summaries with the quantiles 0.5, 0.9, 0.99 and 0.999
 * since start, read from the same kind of histogram (to about 1%); a summary without observations
 * has {@code NaN} quantiles.
 *
 * <p>Dispatches and requests of a stage differ by the re-dispatches of requests resumed into the
 * stage they suspended in (see {@code StageMetrics}).
 *
 * <p>Stateless; safe from any thread.
 */
public final class PrometheusText
{
    /** The media type of the output. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Bucket bounds: 1us to 5s, in nanoseconds, and the same in seconds as they appear in {@code le}. */
    private static final long[] BOUNDS_NANOS = {1_000L, 5_000L, 10_000L, 50_000L, 100_000L, 500_000L, 1_000_000L,
        5_000_000L, 10_000_000L, 50_000_000L, 100_000_000L, 500_000_000L, 1_000_000_000L, 5_000_000_000L};
    private static final String[] BOUNDS_SECONDS = {"0.000001", "0.000005", "0.00001", "0.00005", "0.0001", "0.0005",
        "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5"};
    private static final String SERVICE = "millrace_stage_service_seconds";
    /** Summary quantiles, as they appear in {@code quantile}, and the same as HdrHistogram percentiles. */
    private static final String[] QUANTILES = {"0.5", "0.9", "0.99", "0.999"};
    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    private PrometheusText()
    {
    }

    /**
     * @param snapshot the pipeline's metrics
     * @param pools    further pools by the name to show in their {@code pool} label; may be empty.
     *                 The workers' own pools are included without being passed here.
     * @return the exposition text
     */
    public static String render(final MetricsSnapshot snapshot, final Map<String, PoolStats> pools)
    {
        final StringBuilder out = new StringBuilder(8192);
        render(snapshot, pools, out);
        return out.toString();
    }

    /**
     * Appends the exposition text to {@code out}; see {@link #render(MetricsSnapshot, Map)}.
     */
    public static void render(final MetricsSnapshot snapshot, final Map<String, PoolStats> pools, final StringBuilder out)
    {
        final List<Labelled<PoolStats>> allPools = pools(snapshot, pools);

        final List<Labelled<MetricsSnapshot>> pipeline = List.of(new Labelled<>("", snapshot));
        family(out, "millrace_up", "gauge", "1 while the pipeline is healthy, 0 once a thread hit a fatal error.", pipeline,
            m -> m.up() ? 1 : 0);
        family(out, "millrace_in_flight", "gauge", "Accepted requests not yet completed.", pipeline, MetricsSnapshot::inFlight);
        family(out, "millrace_in_flight_max", "gauge", "The pipeline's in-flight bound.", pipeline,
            MetricsSnapshot::maxInFlight);
        family(out, "millrace_submits_rejected_total", "counter", "Submissions refused, by reason.",
            List.of(new Labelled<>("reason=\"overloaded\"", snapshot.rejectedOverloaded()),
                new Labelled<>("reason=\"not_running\"", snapshot.rejectedNotRunning())), Long::longValue);
        summary(out, "millrace_end_to_end_seconds", "Request latency from submit to completion, since start.",
            List.of(new Labelled<>("", snapshot.endToEndNanos())));

        final List<Labelled<StageMetrics>> stages = new ArrayList<>();
        for (final StageMetrics stage : snapshot.stages())
        {
            stages.add(new Labelled<>(label("stage", stage.name()), stage));
        }
        final List<Labelled<StageMetrics>> stageInfo = new ArrayList<>();
        for (final StageMetrics stage : snapshot.stages())
        {
            stageInfo.add(new Labelled<>(label("stage", stage.name()) + "," + label("placement", stage.placement()) + "," +
                label("partitions", Integer.toString(stage.partitions())), stage));
        }
        family(out, "millrace_stage_info", "gauge", "Stages as declared; always 1.", stageInfo, s -> 1);
        family(out, "millrace_stage_dispatches_total", "counter",
            "Stage dispatches, successful or not; a request resumed into the stage it suspended in is dispatched again.",
            stages, StageMetrics::dispatches);
        family(out, "millrace_stage_requests_total", "counter",
            "Requests that went through the stage: dispatches less re-dispatches after a suspension.", stages,
            StageMetrics::requests);
        family(out, "millrace_stage_parked_total", "counter", "Stage dispatches that suspended their request.", stages,
            StageMetrics::parked);
        family(out, "millrace_stage_errors_total", "counter", "Stage dispatches that threw or misused the stage API.",
            stages, StageMetrics::errors);
        serviceTimes(out, stages);
        final List<Labelled<Histogram>> queueWaits = new ArrayList<>();
        for (final Labelled<StageMetrics> stage : stages)
        {
            queueWaits.add(new Labelled<>(stage.labels(), stage.item().queueWaitNanos()));
        }
        summary(out, "millrace_stage_queue_wait_seconds",
            "Time requests waited in a ring or a blocking stage's queue before a dispatch of the stage, since start.",
            queueWaits);

        final List<Labelled<WorkerMetrics>> workers = new ArrayList<>();
        for (final WorkerMetrics worker : snapshot.workers())
        {
            workers.add(new Labelled<>(label("worker", Integer.toString(worker.index())), worker));
        }
        family(out, "millrace_worker_ring_depth", "gauge", "Events in the worker's inbox ring not yet consumed.", workers,
            WorkerMetrics::ringDepth);
        family(out, "millrace_worker_ring_capacity", "gauge", "Slots in the worker's inbox ring.", workers,
            WorkerMetrics::ringCapacity);
        family(out, "millrace_worker_events_received_total", "counter",
            "Events consumed from the inbox: submissions, hops and resumes.", workers, WorkerMetrics::publishesReceived);
        family(out, "millrace_worker_submits_received_total", "counter", "New requests consumed from the inbox.", workers,
            WorkerMetrics::submitsReceived);
        family(out, "millrace_worker_batches_total", "counter", "Non-empty polls of the inbox.", workers,
            WorkerMetrics::batches);
        family(out, "millrace_worker_max_batch", "gauge", "Largest inbox batch seen.", workers, WorkerMetrics::maxBatch);
        family(out, "millrace_worker_publishes_sent_total", "counter",
            "Publishes into rings: hops to partition owners and resumes.", workers, WorkerMetrics::publishesSent);
        family(out, "millrace_worker_parks_total", "counter", "Empty turns on which the worker parked.", workers,
            WorkerMetrics::parks);
        family(out, "millrace_worker_wakes_total", "counter", "Times a producer unparked the worker.", workers,
            WorkerMetrics::wakes);
        family(out, "millrace_worker_completed_total", "counter", "Requests completed successfully.", workers,
            WorkerMetrics::completed);
        family(out, "millrace_worker_failed_total", "counter", "Requests completed with an error.", workers,
            WorkerMetrics::failed);

        family(out, "millrace_pool_hits_total", "counter", "Acquisitions served from the pool.", allPools, PoolStats::hits);
        family(out, "millrace_pool_misses_total", "counter", "Acquisitions that created an object.", allPools,
            PoolStats::misses);
        family(out, "millrace_pool_frees_total", "counter", "Releases on the owner thread.", allPools, PoolStats::frees);
        family(out, "millrace_pool_returns_total", "counter", "Releases from other threads through the return queue.",
            allPools, PoolStats::returns);
        family(out, "millrace_pool_drops_total", "counter", "Released objects not kept: pool at its cap or queue full.",
            allPools, PoolStats::drops);
        family(out, "millrace_pool_sweeps_total", "counter", "Sweeps run.", allPools, PoolStats::sweeps);
        family(out, "millrace_pool_evicted_total", "counter", "Objects let go by sweeps after a whole idle generation.",
            allPools, PoolStats::evicted);
        family(out, "millrace_pool_idle", "gauge", "Objects in the pool now.", allPools, PoolStats::idle);
        family(out, "millrace_pool_live", "gauge", "Objects handed out and not yet back.", allPools, PoolStats::live);
    }

    /**
     * @param value a label value
     * @return it escaped for the inside of double quotes: backslash, double quote and newline
     */
    static String escapeLabelValue(final String value)
    {
        final StringBuilder s = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '\\' -> s.append("\\\\");
                case '"' -> s.append("\\\"");
                case '\n' -> s.append("\\n");
                default -> s.append(c);
            }
        }
        return s.toString();
    }

    /** A sample's label set, already rendered ({@code a="x",b="y"}, or empty), and what it measures. */
    private record Labelled<T>(String labels, T item)
    {
    }

    /** The workers' own pools, labelled by kind and worker, then the caller's, labelled by their key. */
    private static List<Labelled<PoolStats>> pools(final MetricsSnapshot snapshot, final Map<String, PoolStats> pools)
    {
        final List<Labelled<PoolStats>> all = new ArrayList<>();
        for (final WorkerMetrics worker : snapshot.workers())
        {
            final String index = label("worker", Integer.toString(worker.index()));
            if (worker.contextPool() != null)
            {
                all.add(new Labelled<>(label("pool", "contexts") + "," + index, worker.contextPool()));
            }
            if (worker.bufferChunks() != null)
            {
                all.add(new Labelled<>(label("pool", "chunks") + "," + index, worker.bufferChunks()));
            }
        }
        for (final Map.Entry<String, PoolStats> pool : pools.entrySet())
        {
            all.add(new Labelled<>(label("pool", pool.getKey()), pool.getValue()));
        }
        return all;
    }

    private static <T> void family(final StringBuilder out, final String name, final String type, final String help,
        final List<Labelled<T>> samples, final ToLongFunction<T> value)
    {
        if (samples.isEmpty())
        {
            return;
        }
        header(out, name, type, help);
        for (final Labelled<T> sample : samples)
        {
            out.append(name);
            if (!sample.labels().isEmpty())
            {
                out.append('{').append(sample.labels()).append('}');
            }
            out.append(' ').append(value.applyAsLong(sample.item())).append('\n');
        }
    }

    private static void serviceTimes(final StringBuilder out, final List<Labelled<StageMetrics>> stages)
    {
        if (stages.isEmpty())
        {
            return;
        }
        header(out, SERVICE, "histogram", "Stage service time.");
        for (final Labelled<StageMetrics> stage : stages)
        {
            final Histogram h = stage.item().serviceTimeNanos();
            final long total = h.getTotalCount();
            for (int i = 0; i < BOUNDS_NANOS.length; i++)
            {
                final long count = total == 0 ? 0
                    : BOUNDS_NANOS[i] >= h.getHighestTrackableValue() ? total : h.getCountBetweenValues(0, BOUNDS_NANOS[i]);
                bucket(out, stage.labels(), BOUNDS_SECONDS[i], count);
            }
            bucket(out, stage.labels(), "+Inf", total);
            out.append(SERVICE).append("_sum{").append(stage.labels()).append("} ")
                .append(total == 0 ? "0" : Double.toString(h.getMean() * total / 1e9)).append('\n');
            out.append(SERVICE).append("_count{").append(stage.labels()).append("} ").append(total).append('\n');
        }
    }

    /** A summary family over nanosecond histograms, in seconds; nothing without samples. */
    private static void summary(final StringBuilder out, final String name, final String help,
        final List<Labelled<Histogram>> samples)
    {
        if (samples.isEmpty())
        {
            return;
        }
        header(out, name, "summary", help);
        for (final Labelled<Histogram> sample : samples)
        {
            final Histogram h = sample.item();
            final long total = h.getTotalCount();
            final String labels = sample.labels();
            final String prefix = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < QUANTILES.length; i++)
            {
                out.append(name).append('{').append(prefix).append("quantile=\"").append(QUANTILES[i]).append("\"} ")
                    .append(total == 0 ? "NaN" : Double.toString(h.getValueAtPercentile(PERCENTILES[i]) / 1e9))
                    .append('\n');
            }
            out.append(name).append("_sum");
            if (!labels.isEmpty())
            {
                out.append('{').append(labels).append('}');
            }
            out.append(' ').append(total == 0 ? "0" : Double.toString(h.getMean() * total / 1e9)).append('\n');
            out.append(name).append("_count");
            if (!labels.isEmpty())
            {
                out.append('{').append(labels).append('}');
            }
            out.append(' ').append(total).append('\n');
        }
    }

    private static void bucket(final StringBuilder out, final String labels, final String le, final long count)
    {
        out.append(SERVICE).append("_bucket{").append(labels).append(",le=\"").append(le).append("\"} ")
            .append(count).append('\n');
    }

    private static void header(final StringBuilder out, final String name, final String type, final String help)
    {
        // Help texts are constants here without backslashes or newlines, so they need no escaping.
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String label(final String name, final String value)
    {
        return name + "=\"" + escapeLabelValue(value) + '"';
    }
}
