package io.millrace.bench;

import org.HdrHistogram.Histogram;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.util.Collection;
import java.util.List;

/**
 * A JMH profiler that reports the per-request latency percentiles (p50, p99, p99.9, in µs) that
 * {@link PipelineBenchmark} records in {@link PipelineLatency}: one value per iteration, so JMH
 * gives the mean over the measurement iterations with its error bar. Other benchmarks record
 * nothing and get no rows.
 *
 * <p>Use: {@code java -jar benchmarks.jar PipelineBenchmark -prof io.millrace.bench.LatencyProfiler}.
 */
public final class LatencyProfiler implements InternalProfiler
{
    @Override
    public String getDescription()
    {
        return "Per-request latency percentiles of PipelineBenchmark (submit to completion)";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        PipelineLatency.reset();
    }

    @Override
    public Collection<? extends Result> afterIteration(final BenchmarkParams benchmarkParams,
        final IterationParams iterationParams, final IterationResult result)
    {
        final Histogram h = PipelineLatency.interval();
        if (h.getTotalCount() == 0)
        {
            return List.of();
        }
        return List.of(
            new ScalarResult("latency.p50", h.getValueAtPercentile(50) / 1e3, "us", AggregationPolicy.AVG),
            new ScalarResult("latency.p99", h.getValueAtPercentile(99) / 1e3, "us", AggregationPolicy.AVG),
            new ScalarResult("latency.p99.9", h.getValueAtPercentile(99.9) / 1e3, "us", AggregationPolicy.AVG));
    }
}
