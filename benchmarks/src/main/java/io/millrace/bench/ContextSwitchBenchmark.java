package io.millrace.bench;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One request through five identical small stage functions, done five ways, measured side by side:
 * <ol type="a">
 *   <li>{@code millraceInline}: Millrace, five inline stages on one worker;</li>
 *   <li>{@code millraceRingHop}: Millrace, two workers, every stage partitioned so that each stage
 *       runs on the other worker: a ring publish at every hop;</li>
 *   <li>{@code classicSeda}: a {@link ThreadPoolExecutor} with a {@link LinkedBlockingQueue} per stage;</li>
 *   <li>{@code virtualThread}: a virtual thread per request running the five functions;</li>
 *   <li>{@code disruptorHandoff}: the raw Disruptor hand-off with the same topology as (b) — two
 *       consumer threads polling rings, the same idle strategy and wake-up — and no framework:
 *       the lower bound for (b).</li>
 * </ol>
 * Each approach is measured twice: pipelined throughput (the benchmark thread submits
 * {@value #BATCH} requests, then waits parked for all of them; one operation is one request) and
 * round-trip latency (one request at a time, {@code SampleTime}, for p50 and p99). Both wait the
 * same way, see {@link Batch}. Run with {@code -prof gc -prof io.millrace.bench.ContextSwitchProfiler}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class ContextSwitchBenchmark
{
    static final int STAGES = 5;
    /** Requests in flight per throughput invocation. */
    static final int BATCH = 256;

    /** (a) five inline stages on one worker. */
    @State(Scope.Benchmark)
    public static class MillraceInline
    {
        @Param({"busy-spin", "backoff"})
        public String inlineIdle;

        Pipeline<Request> pipeline;
        final Batch batch = new Batch(BATCH);
        final Batch single = new Batch(1);

        @Setup(Level.Trial)
        public void setUp()
        {
            final PipelineBuilder<Request> b = Pipeline.builder();
            final StageRef<Request>[] s = declare(b, i -> Placement.inline());
            for (int i = 0; i < STAGES; i++)
            {
                final Outcome next = i + 1 < STAGES ? Outcome.next(s[i + 1]) : Outcome.done();
                b.handle(s[i], (r, ctx) ->
                {
                    r.value = Request.step(r.value);
                    return next;
                });
            }
            pipeline = b.name("inline").workers(1).ringSize(1024).idle(idle(inlineIdle))
                .onComplete((r, e) -> r.done()).build().start();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
    }

    /** (b) two workers; every stage runs on the other worker than the one before. */
    @State(Scope.Benchmark)
    public static class MillraceRingHop
    {
        @Param({"busy-spin", "backoff"})
        public String hopIdle;

        /** Service-time sampling: 1 times every request (the default), 16 one in sixteen. */
        @Param({"1", "16"})
        public int sampling;

        Pipeline<Request> pipeline;
        final Batch batch = new Batch(BATCH);
        final Batch single = new Batch(1);

        @Setup(Level.Trial)
        public void setUp()
        {
            final PipelineBuilder<Request> b = Pipeline.builder();
            // Key i % 2 lands in partition i % 2 of 2, owned by worker i % 2; the handler checks it.
            final StageRef<Request>[] s = declare(b, i -> Placement.partitioned(2, r -> i % 2));
            for (int i = 0; i < STAGES; i++)
            {
                final Outcome next = i + 1 < STAGES ? Outcome.next(s[i + 1]) : Outcome.done();
                b.handle(s[i], (r, ctx) ->
                {
                    if (ctx.workerIndex() == r.lastWorker)
                    {
                        throw new IllegalStateException("stage ran on the same worker as the one before: no hop measured");
                    }
                    r.lastWorker = ctx.workerIndex();
                    r.value = Request.step(r.value);
                    return next;
                });
            }
            pipeline = b.name("hop").workers(2).partitions(2).ringSize(1024).idle(idle(hopIdle)).serviceTimeSampling(sampling)
                .onComplete((r, e) ->
                {
                    if (e != null)
                    {
                        throw new IllegalStateException("benchmark request failed", e);
                    }
                    r.done();
                }).build().start();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
    }

    /** (c) classic SEDA: one single-thread executor with a LinkedBlockingQueue per stage. */
    @State(Scope.Benchmark)
    public static class ClassicSeda
    {
        final ExecutorService[] executors = new ExecutorService[STAGES];
        final Batch batch = new Batch(BATCH);
        final Batch single = new Batch(1);
        /** tasks[stage][request]: preallocated, so the executors' queue nodes are the only allocation. */
        Runnable[][] batchTasks;
        Runnable[][] singleTasks;

        @Setup(Level.Trial)
        public void setUp()
        {
            for (int i = 0; i < STAGES; i++)
            {
                final int stage = i;
                executors[i] = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> new Thread(r, "seda-stage-" + stage));
            }
            batchTasks = tasks(batch);
            singleTasks = tasks(single);
        }

        private Runnable[][] tasks(final Batch b)
        {
            final Runnable[][] tasks = new Runnable[STAGES][b.requests.length];
            for (int i = 0; i < STAGES; i++)
            {
                for (int j = 0; j < b.requests.length; j++)
                {
                    final int stage = i;
                    final int index = j;
                    final Request request = b.requests[j];
                    tasks[i][j] = () ->
                    {
                        request.value = Request.step(request.value);
                        if (stage + 1 < STAGES)
                        {
                            executors[stage + 1].execute(tasks[stage + 1][index]);
                        }
                        else
                        {
                            request.done();
                        }
                    };
                }
            }
            return tasks;
        }

        long run(final Batch b, final Runnable[][] tasks)
        {
            b.start();
            for (final Runnable first : tasks[0])
            {
                executors[0].execute(first);
            }
            return b.await();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException
        {
            for (final ExecutorService executor : executors)
            {
                executor.shutdown();
                executor.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** (d) a virtual thread per request. */
    @State(Scope.Benchmark)
    public static class VirtualThreadPerRequest
    {
        final Batch batch = new Batch(BATCH);
        final Batch single = new Batch(1);
        final Runnable[] batchTasks = tasks(batch);
        final Runnable[] singleTasks = tasks(single);

        private static Runnable[] tasks(final Batch b)
        {
            final Runnable[] tasks = new Runnable[b.requests.length];
            for (int j = 0; j < tasks.length; j++)
            {
                final Request request = b.requests[j];
                tasks[j] = () ->
                {
                    long v = request.value;
                    for (int i = 0; i < STAGES; i++)
                    {
                        v = Request.step(v);
                    }
                    request.value = v;
                    request.done();
                };
            }
            return tasks;
        }

        long run(final Batch b, final Runnable[] tasks)
        {
            b.start();
            for (final Runnable task : tasks)
            {
                Thread.startVirtualThread(task);
            }
            return b.await();
        }
    }

    /** (e) the raw Disruptor hand-off, same topology and idling as (b). */
    @State(Scope.Benchmark)
    public static class DisruptorHandoff
    {
        @Param({"busy-spin", "backoff"})
        public String rawIdle;

        RawHandoff handoff;
        final Batch batch = new Batch(BATCH);
        final Batch single = new Batch(1);

        @Setup(Level.Trial)
        public void setUp()
        {
            handoff = new RawHandoff(idle(rawIdle), STAGES);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException
        {
            handoff.close();
        }
    }

    // ---- pipelined throughput: BATCH requests in flight, the benchmark thread parked meanwhile ----

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long millraceInline(final MillraceInline s)
    {
        return submitAndWait(s.pipeline, s.batch);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long millraceRingHop(final MillraceRingHop s)
    {
        return submitAndWait(s.pipeline, s.batch);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long classicSeda(final ClassicSeda s)
    {
        return s.run(s.batch, s.batchTasks);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long virtualThread(final VirtualThreadPerRequest s)
    {
        return s.run(s.batch, s.batchTasks);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long disruptorHandoff(final DisruptorHandoff s)
    {
        return s.handoff.run(s.batch);
    }

    // ---- round-trip latency: one request at a time, sampled ----

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long millraceInlineLatency(final MillraceInline s)
    {
        return submitAndWait(s.pipeline, s.single);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long millraceRingHopLatency(final MillraceRingHop s)
    {
        return submitAndWait(s.pipeline, s.single);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long classicSedaLatency(final ClassicSeda s)
    {
        return s.run(s.single, s.singleTasks);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long virtualThreadLatency(final VirtualThreadPerRequest s)
    {
        return s.run(s.single, s.singleTasks);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long disruptorHandoffLatency(final DisruptorHandoff s)
    {
        return s.handoff.run(s.single);
    }

    private static long submitAndWait(final Pipeline<Request> pipeline, final Batch batch)
    {
        batch.start();
        for (final Request request : batch.requests)
        {
            while (!pipeline.submit(request).accepted())
            {
                Thread.onSpinWait();
            }
        }
        return batch.await();
    }

    static Idle idle(final String name)
    {
        return switch (name)
        {
            case "busy-spin" -> Idle.busySpin();
            case "backoff" -> Idle.backoff();
            default -> throw new IllegalArgumentException("unknown idle strategy " + name);
        };
    }

    @SuppressWarnings("unchecked")
    private static StageRef<Request>[] declare(final PipelineBuilder<Request> b,
        final java.util.function.IntFunction<Placement<Request>> placement)
    {
        final StageRef<Request>[] s = new StageRef[STAGES];
        for (int i = 0; i < STAGES; i++)
        {
            s[i] = b.stage("s" + i, placement.apply(i));
        }
        return s;
    }
}
