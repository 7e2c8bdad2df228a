package io.millrace.demo.http;

import io.millrace.memory.PoolStats;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest
{
    @Test
    void rendersARealPipelineValidly() throws InterruptedException
    {
        final MetricsSnapshot snapshot = SmallPipeline.run(1000);
        final Map<String, PoolStats> pools = new LinkedHashMap<>();
        pools.put("buffers", new PoolStats("buffers", 90, 10, 80, 5, 1, 2, 3, 4, 6));
        final String text = PrometheusText.render(snapshot, pools);

        ExpositionGrammar.assertValid(text);
        for (final StageMetrics stage : snapshot.stages())
        {
            final String labels = "{stage=\"" + stage.name() + "\"}";
            assertEquals(stage.dispatches(), sample(text, "millrace_stage_dispatches_total" + labels));
            assertEquals(stage.errors(), sample(text, "millrace_stage_errors_total" + labels));
            assertEquals(stage.requests(), sample(text, "millrace_stage_requests_total" + labels));
            assertEquals(stage.dispatches(), stage.requests(), "nothing suspends in this pipeline");
            assertEquals(0, sample(text, "millrace_stage_parked_total" + labels));
            assertEquals(stage.queueWaitNanos().getTotalCount(), sample(text, "millrace_stage_queue_wait_seconds_count" + labels));
            final long histogramCount = stage.serviceTimeNanos().getTotalCount();
            assertTrue(histogramCount > 0, "service times were recorded for " + stage.name());
            assertEquals(histogramCount, sample(text, "millrace_stage_service_seconds_count" + labels));
            assertEquals(histogramCount,
                sample(text, "millrace_stage_service_seconds_bucket{stage=\"" + stage.name() + "\",le=\"+Inf\"}"));
        }
        assertEquals(1000, sample(text, "millrace_stage_dispatches_total{stage=\"parse\"}"));
        assertEquals(100, sample(text, "millrace_stage_errors_total{stage=\"reply\"}"));
        long completed = 0;
        for (final WorkerMetrics w : snapshot.workers())
        {
            completed += sample(text, "millrace_worker_completed_total{worker=\"" + w.index() + "\"}");
            assertEquals(w.ringCapacity(), sample(text, "millrace_worker_ring_capacity{worker=\"" + w.index() + "\"}"));
            assertEquals(w.contextPool().hits(),
                sample(text, "millrace_pool_hits_total{pool=\"contexts\",worker=\"" + w.index() + "\"}"));
            assertEquals(w.bufferChunks().live(),
                sample(text, "millrace_pool_live{pool=\"chunks\",worker=\"" + w.index() + "\"}"));
        }
        assertEquals(900, completed);
        assertEquals(90, sample(text, "millrace_pool_hits_total{pool=\"buffers\"}"));
        assertEquals(6, sample(text, "millrace_pool_live{pool=\"buffers\"}"));
        assertEquals(0, sample(text, "millrace_in_flight"));
        assertEquals(snapshot.maxInFlight(), sample(text, "millrace_in_flight_max"));
        assertEquals(snapshot.endToEndNanos().getTotalCount(), sample(text, "millrace_end_to_end_seconds_count"));
        for (final String family : new String[] {"millrace_stage_service_seconds", "millrace_pool_hits_total",
            "millrace_worker_parks_total", "millrace_submits_rejected_total", "millrace_end_to_end_seconds",
            "millrace_stage_queue_wait_seconds", "millrace_stage_requests_total", "millrace_stage_parked_total"})
        {
            assertEquals(1, count(text, "# HELP " + family + " "), family);
            assertEquals(1, count(text, "# TYPE " + family + " "), family);
        }
    }

    @Test
    void countsBucketsCumulativelyInSeconds()
    {
        final Histogram h = new Histogram(1, 60_000_000_000L, 2);
        h.recordValue(500);              // 0.5us
        h.recordValue(2_000);            // 2us
        h.recordValue(2_000);
        h.recordValue(40_000_000);       // 40ms
        h.recordValue(2_000_000_000L);   // 2s
        h.recordValue(30_000_000_000L);  // 30s: only in +Inf
        final String text = PrometheusText.render(snapshot(List.of(new StageMetrics("s", "inline", 0, 6, 6, 0, 0, h, new Histogram(2))), null),
            Map.of());
        ExpositionGrammar.assertValid(text);
        final long[] expected = {1, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5};
        final String[] les = {"0.000001", "0.000005", "0.00001", "0.00005", "0.0001", "0.0005", "0.001", "0.005", "0.01",
            "0.05", "0.1", "0.5", "1", "5"};
        for (int i = 0; i < les.length; i++)
        {
            assertEquals(expected[i], sample(text, "millrace_stage_service_seconds_bucket{stage=\"s\",le=\"" + les[i] + "\"}"),
                "le " + les[i]);
        }
        assertEquals(6, sample(text, "millrace_stage_service_seconds_bucket{stage=\"s\",le=\"+Inf\"}"));
        final double sum = Double.parseDouble(value(text, "millrace_stage_service_seconds_sum{stage=\"s\"}"));
        assertEquals(32.04, sum, 32.04 * 0.01, "sum in seconds, to HdrHistogram's precision");
    }

    @Test
    void rendersEndToEndAndQueueWaitAsSummariesInSeconds()
    {
        final Histogram endToEnd = new Histogram(1, 60_000_000_000L, 2);
        for (int i = 1; i <= 100; i++)
        {
            endToEnd.recordValue(i * 1_000L); // 1us .. 100us
        }
        final Histogram queue = new Histogram(1, 60_000_000_000L, 2);
        queue.recordValue(250);
        queue.recordValue(250);
        final MetricsSnapshot snapshot = new MetricsSnapshot(0, 100, 0, 0, endToEnd, List.of(
            new StageMetrics("lock", "inline", 0, 7, 4, 3, 0, new Histogram(2), queue),
            new StageMetrics("idle", "inline", 0, 0, 0, 0, 0, new Histogram(2), new Histogram(2))),
            List.of(), null);
        final String text = PrometheusText.render(snapshot, Map.of());
        ExpositionGrammar.assertValid(text);

        assertEquals(100, sample(text, "millrace_end_to_end_seconds_count"));
        assertEquals(50e-6, Double.parseDouble(value(text, "millrace_end_to_end_seconds{quantile=\"0.5\"}")), 50e-6 * 0.01);
        assertEquals(99e-6, Double.parseDouble(value(text, "millrace_end_to_end_seconds{quantile=\"0.99\"}")), 99e-6 * 0.01);
        assertEquals(5050e-6, Double.parseDouble(value(text, "millrace_end_to_end_seconds_sum")), 5050e-6 * 0.01);

        assertEquals(7, sample(text, "millrace_stage_dispatches_total{stage=\"lock\"}"));
        assertEquals(4, sample(text, "millrace_stage_requests_total{stage=\"lock\"}"));
        assertEquals(3, sample(text, "millrace_stage_parked_total{stage=\"lock\"}"));
        assertEquals(2, sample(text, "millrace_stage_queue_wait_seconds_count{stage=\"lock\"}"));
        assertEquals(250e-9, Double.parseDouble(value(text, "millrace_stage_queue_wait_seconds{stage=\"lock\",quantile=\"0.999\"}")),
            250e-9 * 0.01);
        assertEquals("NaN", value(text, "millrace_stage_queue_wait_seconds{stage=\"idle\",quantile=\"0.5\"}"));
        assertEquals(0, sample(text, "millrace_stage_queue_wait_seconds_count{stage=\"idle\"}"));
        assertEquals("0", value(text, "millrace_stage_queue_wait_seconds_sum{stage=\"idle\"}"));
    }

    @Test
    void escapesLabelValues()
    {
        final String weird = "we\"ird\\stage\nname";
        final String text = PrometheusText.render(
            snapshot(List.of(new StageMetrics(weird, "inline", 0, 1, 1, 0, 0, new Histogram(1, 1000, 2), new Histogram(2))), null),
            Map.of("pool \"x\"", new PoolStats("p", 1, 0, 0, 0, 0, 0, 0, 0, 0)));
        ExpositionGrammar.assertValid(text);
        assertTrue(text.contains("millrace_stage_dispatches_total{stage=\"we\\\"ird\\\\stage\\nname\"} 1\n"), text);
        assertTrue(text.contains("millrace_pool_hits_total{pool=\"pool \\\"x\\\"\"} 1\n"), text);
    }

    @Test
    void leavesOutFamiliesWithoutSamples()
    {
        final String text = PrometheusText.render(snapshot(List.of(), null), Map.of());
        ExpositionGrammar.assertValid(text);
        assertFalse(text.contains("millrace_pool_"), text);
        assertFalse(text.contains("millrace_stage_"), text);
        assertTrue(text.contains("millrace_end_to_end_seconds{quantile=\"0.5\"} NaN\n"), text);
        assertTrue(text.contains("millrace_worker_parks_total{worker=\"0\"} 7\n"), text);
    }

    @Test
    void labelsWorkerPoolsByKindAndWorkerAndOtherPoolsByKey()
    {
        final PoolStats context = new PoolStats("w-contexts", 3, 1, 1, 0, 0, 0, 0, 1, 0);
        final String text = PrometheusText.render(snapshot(List.of(), context), Map.of("contexts", context));
        ExpositionGrammar.assertValid(text);
        assertEquals(3, sample(text, "millrace_pool_hits_total{pool=\"contexts\",worker=\"0\"}"));
        assertEquals(3, sample(text, "millrace_pool_hits_total{pool=\"contexts\"}"));
    }

    @Test
    void usesTheExpositionMediaType()
    {
        assertEquals("text/plain; version=0.0.4; charset=utf-8", PrometheusText.CONTENT_TYPE);
    }

    static MetricsSnapshot snapshot(final List<StageMetrics> stages, final PoolStats contextPool)
    {
        final WorkerMetrics worker = new WorkerMetrics(0, "w0", 1, 1024, 10, 5, 3, 4, new Histogram(2), 2, 7, 1, 9, 1,
            0, 0, 0, contextPool, null);
        return new MetricsSnapshot(1, 100, 2, 3, new Histogram(2), stages, List.of(worker), null);
    }

    /** @return the integer value of the one sample written exactly as {@code series} */
    static long sample(final String text, final String series)
    {
        return Long.parseLong(value(text, series));
    }

    static String value(final String text, final String series)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), () -> "no sample " + series + " in\n" + text);
        final String value = m.group(1);
        assertFalse(m.find(), "two samples " + series);
        return value;
    }

    private static int count(final String text, final String part)
    {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1))
        {
            n++;
        }
        return n;
    }
}
