package io.millrace.bench;

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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A realistic pipeline, done three ways with the same work ({@link PipelineWork}): parse the request
 * line, look the key up in a partitioned data set of 64 Ki entries (and count the hit), a blocking
 * call that parks about 50 µs (a fast database) with at most {@value #BLOCKING_THREADS} calls at
 * once, then write the reply.
 * <ol type="a">
 *   <li>{@code millrace}: a Millrace pipeline at default settings: parse inline, lookup
 *       {@code partitioned(64, key)}, the call in {@code blocking(16)}, reply inline;</li>
 *   <li>{@code threadPoolPerStage}: classic SEDA, a {@link ThreadPoolExecutor} with a
 *       {@link LinkedBlockingQueue} per stage, with 1, 1, 16 and 1 threads; the lookup stage's single
 *       thread owns the data set;</li>
 *   <li>{@code virtualThreadPerRequest}: a virtual thread per request running the four steps, with a
 *       {@link ReentrantLock} around the data set and a {@link Semaphore} of 16 around the call (the
 *       database takes 16 calls at once in every variant, as a connection pool would).</li>
 * </ol>
 * Each invocation submits {@value #IN_FLIGHT} requests and waits for all of them (one operation is
 * one request). Every completion records its request's latency, submit to completion
 * ({@link PipelineLatency}). Run with {@code -prof gc -prof io.millrace.bench.ContextSwitchProfiler
 * -prof io.millrace.bench.LatencyProfiler}; {@code benchmarks/pipeline-bench.sh} does, and prints a
 * table.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class PipelineBenchmark
{
    /** Requests in flight per invocation. */
    static final int IN_FLIGHT = 256;
    /** Threads of the blocking stage, and concurrent database calls in every variant. */
    static final int BLOCKING_THREADS = 16;

    /** (a) the Millrace pipeline. */
    @State(Scope.Benchmark)
    public static class Millrace
    {
        final PipelineBatch batch = new PipelineBatch(IN_FLIGHT, PipelineWork.KEYS);
        final PipelineWork work = new PipelineWork();
        Pipeline<PipelineRequest> pipeline;

        @Setup(Level.Trial)
        public void setUp()
        {
            final PipelineBuilder<PipelineRequest> b = Pipeline.builder();
            final StageRef<PipelineRequest> parse = b.stage("parse");
            final StageRef<PipelineRequest> lookup = b.stage("lookup",
                Placement.partitioned(PipelineWork.PARTITIONS, r -> r.key));
            final StageRef<PipelineRequest> call = b.stage("call", Placement.blocking(BLOCKING_THREADS));
            final StageRef<PipelineRequest> reply = b.stage("reply");
            final Outcome toLookup = Outcome.next(lookup);
            final Outcome toCall = Outcome.next(call);
            final Outcome toReply = Outcome.next(reply);
            b.handle(parse, (r, ctx) ->
            {
                PipelineWork.parse(r);
                return toLookup;
            }).handle(lookup, (r, ctx) ->
            {
                work.lookup(r, ctx.partition());
                return toCall;
            }).handle(call, (r, ctx) ->
            {
                PipelineWork.call();
                return toReply;
            }).handle(reply, (r, ctx) ->
            {
                PipelineWork.reply(r);
                return Outcome.done();
            });
            pipeline = b.name("pipeline").onComplete((r, e) ->
            {
                if (e != null)
                {
                    throw new IllegalStateException("benchmark request failed", e);
                }
                r.done();
            }).build().start();
        }

        long run()
        {
            batch.start();
            for (final PipelineRequest r : batch.requests)
            {
                r.submittedNanos = System.nanoTime();
                while (!pipeline.submit(r).accepted())
                {
                    Thread.onSpinWait();
                }
            }
            return batch.await();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
    }

    /** (b) a thread pool per stage: 1, 1, 16 and 1 threads. */
    @State(Scope.Benchmark)
    public static class ThreadPoolPerStage
    {
        final PipelineBatch batch = new PipelineBatch(IN_FLIGHT, PipelineWork.KEYS);
        final PipelineWork work = new PipelineWork();
        ThreadPoolExecutor parse;
        ThreadPoolExecutor lookup;
        ThreadPoolExecutor call;
        ThreadPoolExecutor reply;
        /** The first stage's task per request, preallocated: the executors' queue nodes are their own allocation. */
        Runnable[] firstTasks;

        @Setup(Level.Trial)
        public void setUp()
        {
            parse = pool("parse", 1);
            lookup = pool("lookup", 1);
            call = pool("call", BLOCKING_THREADS);
            reply = pool("reply", 1);
            firstTasks = new Runnable[IN_FLIGHT];
            for (int i = 0; i < IN_FLIGHT; i++)
            {
                final PipelineRequest r = batch.requests[i];
                final Runnable replyTask = () ->
                {
                    PipelineWork.reply(r);
                    r.done();
                };
                final Runnable callTask = () ->
                {
                    PipelineWork.call();
                    reply.execute(replyTask);
                };
                final Runnable lookupTask = () ->
                {
                    work.lookup(r, PipelineWork.partitionOf(r.key));
                    call.execute(callTask);
                };
                firstTasks[i] = () ->
                {
                    PipelineWork.parse(r);
                    lookup.execute(lookupTask);
                };
            }
        }

        private static ThreadPoolExecutor pool(final String stage, final int threads)
        {
            final int[] n = {0};
            final ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> new Thread(r, "pool-" + stage + "-" + n[0]++));
            pool.prestartAllCoreThreads();
            return pool;
        }

        long run()
        {
            batch.start();
            for (int i = 0; i < IN_FLIGHT; i++)
            {
                batch.requests[i].submittedNanos = System.nanoTime();
                parse.execute(firstTasks[i]);
            }
            return batch.await();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException
        {
            for (final ThreadPoolExecutor pool : new ThreadPoolExecutor[] {parse, lookup, call, reply})
            {
                pool.shutdown();
                pool.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** (c) a virtual thread per request, a lock around the data set, 16 permits for the call. */
    @State(Scope.Benchmark)
    public static class VirtualThreadPerRequest
    {
        final PipelineBatch batch = new PipelineBatch(IN_FLIGHT, PipelineWork.KEYS);
        final PipelineWork work = new PipelineWork();
        final ReentrantLock dataLock = new ReentrantLock();
        final Semaphore connections = new Semaphore(BLOCKING_THREADS);
        /** The task per request, preallocated: the virtual thread is the variant's own allocation. */
        final Runnable[] tasks = new Runnable[IN_FLIGHT];

        @Setup(Level.Trial)
        public void setUp()
        {
            for (int i = 0; i < IN_FLIGHT; i++)
            {
                final PipelineRequest r = batch.requests[i];
                tasks[i] = () ->
                {
                    PipelineWork.parse(r);
                    dataLock.lock();
                    try
                    {
                        work.lookup(r, PipelineWork.partitionOf(r.key));
                    }
                    finally
                    {
                        dataLock.unlock();
                    }
                    connections.acquireUninterruptibly();
                    try
                    {
                        PipelineWork.call();
                    }
                    finally
                    {
                        connections.release();
                    }
                    PipelineWork.reply(r);
                    r.done();
                };
            }
        }

        long run()
        {
            batch.start();
            for (int i = 0; i < IN_FLIGHT; i++)
            {
                batch.requests[i].submittedNanos = System.nanoTime();
                Thread.startVirtualThread(tasks[i]);
            }
            return batch.await();
        }
    }

    @Benchmark
    @OperationsPerInvocation(IN_FLIGHT)
    public long millrace(final Millrace s)
    {
        return s.run();
    }

    @Benchmark
    @OperationsPerInvocation(IN_FLIGHT)
    public long threadPoolPerStage(final ThreadPoolPerStage s)
    {
        return s.run();
    }

    @Benchmark
    @OperationsPerInvocation(IN_FLIGHT)
    public long virtualThreadPerRequest(final VirtualThreadPerRequest s)
    {
        return s.run();
    }
}
