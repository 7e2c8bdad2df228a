package io.millrace.worker;

import io.millrace.Idle;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome.Outcomes;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link BlockingStagePool}'s hand-off from workers to the stage's threads: {@code submit} offers the
 * request to the queue, then releases a permit; a stage thread acquires a permit, then {@code take()}s
 * the request it is owed and claims it ({@link Exchange#tryStartBlocking}). The pool's threads are
 * never started: the actors call the real {@code submit} and, through a private lookup, the real
 * {@code take()} that the threads' loop calls after {@code pending.acquire()}.
 */
public final class BlockingHandOffStress
{
    static final StageRef<Object> BLOCKING = new StageRef<>(new Object(), "blocking", 0, Placement.blocking(1));
    static final StageDef<Object> DEF = new StageDef<>(BLOCKING, 0, (request, ctx) -> Outcome.done());
    /** Never started; lends the pools and exchanges their runtime. */
    static final PipelineRuntime<Object> RUNTIME = newRuntime();

    private static final MethodHandle TAKE;
    private static final MethodHandle PENDING;
    private static final MethodHandle QUEUE;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(BlockingStagePool.class, MethodHandles.lookup());
            TAKE = lookup.findVirtual(BlockingStagePool.class, "take", MethodType.methodType(Exchange.class));
            PENDING = lookup.findGetter(BlockingStagePool.class, "pending", Semaphore.class);
            QUEUE = lookup.findGetter(BlockingStagePool.class, "queue", ManyToManyConcurrentArrayQueue.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private BlockingHandOffStress()
    {
    }

    @SuppressWarnings("unchecked")
    private static PipelineRuntime<Object> newRuntime()
    {
        return new PipelineRuntime<>(new Object(), "jcstress", new StageDef[] {DEF}, 0, 1, 8, 4, Idle.busySpin(), 1,
            (request, error) -> { }, null);
    }

    /**
     * Pools whose hand-off ended balanced (queue empty, no permit), for the next states: a pool brings
     * a thread object and its metrics lane, too heavy to build for every one of jcstress's samples.
     * A reused pool is as good as new (its queue's sequences just go round), and moves between
     * threads through this queue.
     */
    private static final ConcurrentLinkedQueue<BlockingStagePool<Object>> SPARE = new ConcurrentLinkedQueue<>();

    /** One pool, its permits and queue, and requests to hand over. */
    abstract static class PoolState
    {
        final BlockingStagePool<Object> pool = takePool();
        final Semaphore pending = get(PENDING, pool);
        final ManyToManyConcurrentArrayQueue<Exchange<Object>> queue = get(QUEUE, pool);
        final Exchange<Object> x1 = new Exchange<>(RUNTIME);
        final Exchange<Object> x2 = new Exchange<>(RUNTIME);

        @SuppressWarnings("unchecked")
        private static <T> T get(final MethodHandle getter, final BlockingStagePool<Object> pool)
        {
            try
            {
                return (T)getter.invoke(pool);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        private static BlockingStagePool<Object> takePool()
        {
            final BlockingStagePool<Object> spare = SPARE.poll();
            return spare != null ? spare : new BlockingStagePool<>(RUNTIME, DEF, 4, 1, "jcstress-");
        }

        /** Arbiter, after reading the results: empties the pool and keeps it for another state. */
        void recycle()
        {
            while (pending.tryAcquire())
            {
                if (queue.poll() == null)
                {
                    return; // out of step (a forbidden outcome was just recorded): drop this pool
                }
            }
            if (queue.isEmpty())
            {
                SPARE.offer(pool);
            }
        }

        /** A worker hands the request to the stage; {@code from} is used only if the queue is full. */
        void submit(final Exchange<Object> x)
        {
            pool.submit(x, DEF.index, null);
        }

        /** A stage thread holding a permit: the request it is owed. */
        @SuppressWarnings("unchecked")
        Exchange<Object> take()
        {
            try
            {
                return (Exchange<Object>)TAKE.invoke(pool);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        /** 1 for x1, 2 for x2, 0 for null, -1 for anything else. */
        int id(final Exchange<Object> x)
        {
            return x == null ? 0 : x == x1 ? 1 : x == x2 ? 2 : -1;
        }
    }

    @JCStressTest
    @Description("A worker submits x while a stage thread looks for work (the pool's thread blocks in " +
        "pending.acquire(); tryAcquire() takes the same permit without blocking, so both orders show). Result: " +
        "(request taken: 1 x / 0 no permit yet, the taker claimed it (tryStartBlocking), requests left in the " +
        "queue, permits left). A permit always comes with a request: never a permit without one, nor a request " +
        "without its permit.")
    @Outcomes({
        @org.openjdk.jcstress.annotations.Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE,
            desc = "submitted first; the stage thread took x and claimed it"),
        @org.openjdk.jcstress.annotations.Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE,
            desc = "no permit yet; x waits in the queue with its permit for the next look"),
        @org.openjdk.jcstress.annotations.Outcome(expect = FORBIDDEN,
            desc = "a permit without its request, a request without its permit, or a request taken twice"),
    })
    @State
    public static class SubmitVsTake extends PoolState
    {
        @Actor
        public void worker()
        {
            submit(x1);
        }

        @Actor
        public void stageThread(final IIII_Result r)
        {
            if (pending.tryAcquire())
            {
                final Exchange<Object> x = take();
                r.r1 = id(x);
                r.r2 = x != null && x.tryStartBlocking() ? 1 : 0;
            }
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = queue.size();
            r.r4 = pending.availablePermits();
            recycle();
        }
    }

    @JCStressTest
    @Description("Two workers submit x1 and x2; the second worker's thread then acts as a stage thread: it takes " +
        "the permit its own submit released and takes the request it is owed. If x1's offer claimed the queue " +
        "slot first but is not published yet, poll() returns null for a moment (the queue hands out in claim " +
        "order); the taker must wait it out, never give the permit up. Result: (request taken: 1 x1 / 2 x2 / 0 " +
        "none, claimed, requests left (-1 if the one left is not the other one), permits left).")
    @Outcomes({
        @org.openjdk.jcstress.annotations.Outcome(id = {"1, 1, 1, 1", "2, 1, 1, 1"}, expect = ACCEPTABLE,
            desc = "took one; the other waits in the queue with its permit"),
        @org.openjdk.jcstress.annotations.Outcome(id = "0, .*", expect = FORBIDDEN,
            desc = "lost permit: the taker gave up on a null poll while a request was committed"),
        @org.openjdk.jcstress.annotations.Outcome(expect = FORBIDDEN,
            desc = "a request lost or taken twice, or permits and requests out of step"),
    })
    @State
    public static class LaggingProducer extends PoolState
    {
        @Actor
        public void worker1()
        {
            submit(x1);
        }

        @Actor
        public void worker2ThenStageThread(final IIII_Result r)
        {
            submit(x2);
            pending.acquireUninterruptibly(); // never waits: our own submit released one
            final Exchange<Object> x = take();
            r.r1 = id(x);
            r.r2 = x != null && x.tryStartBlocking() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            final int left = queue.size();
            final Exchange<Object> next = queue.peek();
            r.r3 = left == 1 && id(next) != r.r1 ? left : left == 1 ? -1 : left;
            r.r4 = pending.availablePermits();
            recycle();
        }
    }
}
