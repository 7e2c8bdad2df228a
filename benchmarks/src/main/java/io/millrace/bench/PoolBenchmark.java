package io.millrace.bench;

import io.millrace.memory.LookasidePool;
import io.netty.util.Recycler;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Getting a small object and giving it back: Millrace's {@link LookasidePool} against {@code new}
 * (and the garbage collector) and Netty's {@link Recycler}, on one thread and across two.
 *
 * <p>Same thread: one op is get, touch, hand to the blackhole, give back. Cross thread (a JMH group
 * of two threads): one thread gets objects and passes them through an SPSC hand-off queue, the
 * other gives them back, so every give-back is a cross-thread return (the pool's MPSC return
 * queue; the Recycler's own cross-thread path; for {@code new}, the garbage collector). When the
 * hand-off queue is full the getter gives the object back itself, the same way for all three.
 * Each thread's pool is in a {@link Scope#Thread} state and owned by that thread. Run with
 * {@code -prof gc} to see allocation per op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class PoolBenchmark
{
    /** The pooled object: a few fields, like a small request context. */
    public static final class Payload
    {
        long a;
        long b;
        long c;
        long d;
        LookasidePool<Payload> origin;
        Recycler.Handle<Payload> handle;
    }

    /** Netty's idiom: one shared Recycler, thread-local inside. */
    private static final Recycler<Payload> RECYCLER = new Recycler<>()
    {
        @Override
        protected Payload newObject(final Handle<Payload> handle)
        {
            final Payload p = new Payload();
            p.handle = handle;
            return p;
        }
    };

    /** This thread's own pool. */
    @State(Scope.Thread)
    public static class Local
    {
        LookasidePool<Payload> pool;

        @Setup(Level.Trial)
        public void setUp()
        {
            pool = LookasidePool.builder("bench", Payload::new).maxIdle(4096).returnQueueCapacity(4096).build();
        }
    }

    /** The hand-off between the two threads of a cross-thread group. */
    @State(Scope.Group)
    public static class Handoff
    {
        OneToOneConcurrentArrayQueue<Payload> queue;

        @Setup(Level.Trial)
        public void setUp()
        {
            queue = new OneToOneConcurrentArrayQueue<>(1024);
        }
    }

    @Benchmark
    public void newObject(final Blackhole bh)
    {
        final Payload p = new Payload();
        p.a++;
        bh.consume(p);
    }

    @Benchmark
    public void lookasidePool(final Local local, final Blackhole bh)
    {
        final LookasidePool<Payload> pool = local.pool;
        final Payload p = pool.acquire();
        p.a++;
        bh.consume(p);
        pool.release(p);
    }

    @Benchmark
    public void nettyRecycler(final Blackhole bh)
    {
        final Payload p = RECYCLER.get();
        p.a++;
        bh.consume(p);
        p.handle.recycle(p);
    }

    /** Get-and-release pairs per invocation of the two batched benchmarks below. */
    static final int BATCH = 4096;

    /**
     * The Recycler where Netty 4.2 pools: since 4.2 it pools only on a thread whose fast thread
     * locals are cleaned up (a {@code FastThreadLocalThread}, an event loop), and on any other thread,
     * such as JMH's, {@link #nettyRecycler} gets a new object every time. Here the pairs run inside
     * {@link FastThreadLocalThread#runWithFastThreadLocal}, which marks this thread so for the batch;
     * leaving it clears the thread's fast thread locals, the Recycler's pool included, so each batch
     * starts with one allocation: about {@code 1 / BATCH} of one object per pair.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void nettyRecyclerOnFastThreadLocal(final Blackhole bh)
    {
        FastThreadLocalThread.runWithFastThreadLocal(() ->
        {
            for (int i = 0; i < BATCH; i++)
            {
                final Payload p = RECYCLER.get();
                p.a++;
                bh.consume(p);
                p.handle.recycle(p);
            }
        });
    }

    /** {@link #lookasidePool} in the same batched loop as {@link #nettyRecyclerOnFastThreadLocal}, for a like-for-like ratio. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void lookasidePoolBatched(final Local local, final Blackhole bh)
    {
        final LookasidePool<Payload> pool = local.pool;
        for (int i = 0; i < BATCH; i++)
        {
            final Payload p = pool.acquire();
            p.a++;
            bh.consume(p);
            pool.release(p);
        }
    }

    @Benchmark
    @Group("newCrossThread")
    @GroupThreads(1)
    public void newGet(final Handoff handoff)
    {
        final Payload p = new Payload();
        p.a++;
        handoff.queue.offer(p);
    }

    @Benchmark
    @Group("newCrossThread")
    @GroupThreads(1)
    public void newDrop(final Handoff handoff, final Blackhole bh)
    {
        bh.consume(handoff.queue.poll());
    }

    @Benchmark
    @Group("lookasideCrossThread")
    @GroupThreads(1)
    public void lookasideGet(final Local local, final Handoff handoff)
    {
        final Payload p = local.pool.acquire();
        p.a++;
        p.origin = local.pool;
        if (!handoff.queue.offer(p))
        {
            local.pool.release(p);
        }
    }

    @Benchmark
    @Group("lookasideCrossThread")
    @GroupThreads(1)
    public void lookasideRelease(final Handoff handoff, final Blackhole bh)
    {
        final Payload p = handoff.queue.poll();
        if (p != null)
        {
            bh.consume(p.a);
            p.origin.release(p);
        }
    }

    @Benchmark
    @Group("recyclerCrossThread")
    @GroupThreads(1)
    public void recyclerGet(final Handoff handoff)
    {
        final Payload p = RECYCLER.get();
        p.a++;
        if (!handoff.queue.offer(p))
        {
            p.handle.recycle(p);
        }
    }

    @Benchmark
    @Group("recyclerCrossThread")
    @GroupThreads(1)
    public void recyclerRecycle(final Handoff handoff, final Blackhole bh)
    {
        final Payload p = handoff.queue.poll();
        if (p != null)
        {
            bh.consume(p.a);
            p.handle.recycle(p);
        }
    }
}
