package io.millrace.bench;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One request through a 5-stage inline pipeline on one worker: submit from the benchmark thread,
 * five stage functions on the worker in one loop turn, completion signalled back. Measures the real
 * runtime path (ring entry, dispatch loop, outcome handling, completion, context recycling).
 *
 * <p>The request object is reused: it is the benchmark's own, and one request is in flight at a time.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class InlinePipelineBenchmark
{
    /** A request the stages work on. */
    public static final class Request
    {
        long value;
        volatile boolean done;
    }

    @Param({"busy-spin", "backoff"})
    public String idle;

    private Pipeline<Request> pipeline;
    private final Request request = new Request();

    @Setup(Level.Trial)
    public void setUp()
    {
        final PipelineBuilder<Request> b = Pipeline.builder();
        @SuppressWarnings("unchecked")
        final StageRef<Request>[] s = new StageRef[5];
        for (int i = 0; i < s.length; i++)
        {
            s[i] = b.stage("s" + i);
        }
        for (int i = 0; i < s.length; i++)
        {
            final Outcome next = i + 1 < s.length ? Outcome.next(s[i + 1]) : Outcome.done();
            b.handle(s[i], (r, ctx) ->
            {
                r.value = r.value * 31 + 7;
                return next;
            });
        }
        pipeline = b.name("bench").workers(1).ringSize(1024)
            .idle("busy-spin".equals(idle) ? Idle.busySpin() : Idle.backoff())
            .onComplete((r, error) -> r.done = true)
            .build().start();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        pipeline.shutdown(Duration.ofSeconds(5));
    }

    @Benchmark
    public long requestThroughFiveInlineStages()
    {
        final Request r = request;
        r.done = false;
        while (!pipeline.submit(r).accepted())
        {
            Thread.onSpinWait();
        }
        while (!r.done)
        {
            Thread.onSpinWait();
        }
        return r.value;
    }
}
