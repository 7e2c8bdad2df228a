package io.millrace.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.profile.ProfilerException;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;

/**
 * A JMH profiler that reports the CPU time of the whole benchmark JVM (every thread, user and
 * system) per operation, in nanoseconds, read before and after each iteration. Where a benchmark is
 * bound by something other than the CPU (a blocking call's concurrency, say), throughput ties and
 * this figure shows what each variant costs: the CPU left for other work.
 *
 * <p>Use: {@code java -jar benchmarks.jar -prof io.millrace.bench.CpuTimeProfiler}. Needs the
 * {@code com.sun.management} extension of the JDK's operating-system bean (HotSpot has it).
 */
public final class CpuTimeProfiler implements InternalProfiler
{
    private final com.sun.management.OperatingSystemMXBean os;
    private long before;

    /**
     * @throws ProfilerException when the JVM does not report process CPU time
     */
    public CpuTimeProfiler() throws ProfilerException
    {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean bean)
            || bean.getProcessCpuTime() < 0)
        {
            throw new ProfilerException("CpuTimeProfiler needs com.sun.management.OperatingSystemMXBean" +
                ".getProcessCpuTime(), which this JVM does not provide");
        }
        os = bean;
    }

    @Override
    public String getDescription()
    {
        return "CPU time of the benchmark JVM (all threads) per operation";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        before = os.getProcessCpuTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(final BenchmarkParams benchmarkParams,
        final IterationParams iterationParams, final IterationResult result)
    {
        final double ops = Math.max(1, result.getMetadata().getAllOps());
        return List.of(new ScalarResult("cpu.time", (os.getProcessCpuTime() - before) / ops, "ns/op",
            AggregationPolicy.AVG));
    }
}
