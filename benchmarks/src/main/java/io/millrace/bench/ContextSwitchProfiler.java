package io.millrace.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.profile.ProfilerException;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JMH profiler that reports context switches per operation: voluntary (the thread blocked or
 * parked) and involuntary (the scheduler preempted it), summed over every thread of the benchmark
 * JVM from {@code /proc/self/task/*&#47;status}, read before and after each iteration and divided by
 * the iteration's operations.
 *
 * <p>Use: {@code java -jar benchmarks.jar -prof io.millrace.bench.ContextSwitchProfiler}. Linux only;
 * elsewhere JMH prints this profiler's reason for refusing to run.
 *
 * <p>Counts are kept per thread id: a thread alive at both reads adds its difference, a thread
 * born during the iteration adds all of its switches, and a thread that ended during the iteration
 * takes its switches with it — so the figure is a lower bound for benchmarks that start and stop
 * platform threads per operation. None of ours do (virtual threads run on long-lived carriers,
 * whose switches are counted).
 */
public final class ContextSwitchProfiler implements InternalProfiler
{
    private static final Path TASKS = Path.of("/proc/self/task");

    private Map<String, long[]> before = Map.of();

    /**
     * @throws ProfilerException when {@code /proc/self/task} is not readable (not Linux)
     */
    public ContextSwitchProfiler() throws ProfilerException
    {
        if (!Files.isDirectory(TASKS) || read() == null)
        {
            throw new ProfilerException("ContextSwitchProfiler needs Linux's /proc/self/task/*/status " +
                "(voluntary_ctxt_switches); it is not available on " + System.getProperty("os.name"));
        }
    }

    @Override
    public String getDescription()
    {
        return "Context switches per operation, all JVM threads, from /proc/self/task/*/status";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        before = read();
    }

    @Override
    public Collection<? extends Result> afterIteration(final BenchmarkParams benchmarkParams,
        final IterationParams iterationParams, final IterationResult result)
    {
        final Map<String, long[]> after = read();
        long voluntarySwitches = 0;
        long involuntarySwitches = 0;
        if (after != null && before != null)
        {
            for (final Map.Entry<String, long[]> thread : after.entrySet())
            {
                final long[] then = before.getOrDefault(thread.getKey(), new long[2]);
                voluntarySwitches += thread.getValue()[0] - then[0];
                involuntarySwitches += thread.getValue()[1] - then[1];
            }
        }
        final double ops = Math.max(1, result.getMetadata().getAllOps());
        final double voluntary = voluntarySwitches / ops;
        final double involuntary = involuntarySwitches / ops;
        return List.of(
            new ScalarResult("cs.voluntary", voluntary, "#/op", AggregationPolicy.AVG),
            new ScalarResult("cs.involuntary", involuntary, "#/op", AggregationPolicy.AVG),
            new ScalarResult("cs.total", voluntary + involuntary, "#/op", AggregationPolicy.AVG));
    }

    /**
     * @return thread id to {voluntary, involuntary} for every live thread, or {@code null} if unreadable
     */
    static Map<String, long[]> read()
    {
        final Map<String, long[]> counts = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS))
        {
            for (final Path task : tasks)
            {
                final List<String> lines;
                try
                {
                    lines = Files.readAllLines(task.resolve("status"));
                }
                catch (final IOException ex)
                {
                    continue; // the thread ended while we looked
                }
                final long[] thread = new long[2];
                for (final String line : lines)
                {
                    if (line.startsWith("voluntary_ctxt_switches:"))
                    {
                        thread[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                    else if (line.startsWith("nonvoluntary_ctxt_switches:"))
                    {
                        thread[1] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                counts.put(task.getFileName().toString(), thread);
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
        return counts;
    }
}
