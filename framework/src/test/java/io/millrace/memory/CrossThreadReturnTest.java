package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Objects released on threads other than the pool's owner. */
@Timeout(30)
class CrossThreadReturnTest
{
    static final class Thing
    {
    }

    @Test
    void objectsFreedOnThreeOtherThreadsAllReachTheOwner() throws InterruptedException
    {
        final LookasidePool<Thing> pool = LookasidePool.builder("xt", Thing::new).maxIdle(64).returnQueueCapacity(64).build();
        final List<Thing> taken = new ArrayList<>();
        for (int i = 0; i < 30; i++)
        {
            taken.add(pool.acquire());
        }
        releaseOnThreeThreads(pool, taken);

        assertEquals(30, pool.stats().live(), "returned objects count as live until the owner drains them");
        assertEquals(0, pool.stats().returns());
        assertEquals(30, pool.drainReturns());
        final PoolStats s = pool.stats();
        assertEquals(30, s.returns());
        assertEquals(0, s.frees());
        assertEquals(0, s.drops());
        assertEquals(0, s.live());
        assertEquals(30, s.idle());

        final Set<Thing> again = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < 30; i++)
        {
            again.add(pool.acquire());
        }
        assertEquals(30, again.size());
        assertEquals(new HashSet<>(taken), new HashSet<>(again), "the very same objects came back");
        assertEquals(30, pool.stats().misses(), "nothing was re-created");
    }

    @Test
    void aMissDrainsTheReturnQueue() throws InterruptedException
    {
        final LookasidePool<Thing> pool = LookasidePool.builder("xt-miss", Thing::new).build();
        final Thing thing = pool.acquire();
        final Thread other = new Thread(() -> pool.release(thing));
        other.start();
        other.join();
        assertSame(thing, pool.acquire(), "the lists were empty, so acquire drained the return queue");
        final PoolStats s = pool.stats();
        assertEquals(1, s.hits());
        assertEquals(1, s.returns());
        assertEquals(1, s.live());
    }

    @Test
    void withTheReturnQueueFullDropsAreCountedAndNothingBlocks() throws InterruptedException
    {
        final AtomicInteger discardedElsewhere = new AtomicInteger();
        final Thread owner = Thread.currentThread();
        final LookasidePool<Thing> pool = LookasidePool.builder("xt-full", Thing::new)
            .maxIdle(64)
            .returnQueueCapacity(8)
            .onDiscard(t ->
            {
                if (Thread.currentThread() != owner)
                {
                    discardedElsewhere.incrementAndGet();
                }
            })
            .build();
        final List<Thing> taken = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            taken.add(pool.acquire());
        }
        // The owner does not drain while the others release: 8 fit, 32 must be dropped.
        releaseOnThreeThreads(pool, taken);

        PoolStats s = pool.stats();
        assertEquals(32, s.drops());
        assertEquals(32, discardedElsewhere.get(), "dropped objects went to the discard hook on the releasing threads");
        assertEquals(8, s.live());
        assertEquals(8, pool.drainReturns());
        s = pool.stats();
        assertEquals(0, s.live());
        assertEquals(8, s.idle());
        assertEquals(8, s.returns());
    }

    /** Releases {@code objects} split over three threads, started together; returns when all are done. */
    private static void releaseOnThreeThreads(final LookasidePool<Thing> pool, final List<Thing> objects)
        throws InterruptedException
    {
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++)
        {
            final List<Thing> mine = new ArrayList<>();
            for (int i = t; i < objects.size(); i += 3)
            {
                mine.add(objects.get(i));
            }
            final Thread thread = new Thread(() ->
            {
                try
                {
                    go.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return;
                }
                mine.forEach(pool::release);
            }, "releaser-" + t);
            threads.add(thread);
            thread.start();
        }
        go.countDown();
        for (final Thread thread : threads)
        {
            // Releasing never waits for the owner, so these end although the owner is blocked in join.
            thread.join();
        }
    }
}
