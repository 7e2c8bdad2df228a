package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Four threads, each owning a pool, acquire objects and release them either themselves or on
 * another thread, with a return queue small enough to overflow. Every pool operation is followed
 * by checks of the invariants: an object is never handed to two holders at once, and no pool ever
 * holds more idle objects than its cap. At the end every pool's live count is zero and every
 * object is accounted for.
 */
@Timeout(60)
class PoolStressTest
{
    private static final int THREADS = 4;
    private static final int ROUNDS = 20_000;
    private static final int CAP = 32;

    static final class Item
    {
        final int origin;
        final AtomicBoolean inUse = new AtomicBoolean();

        Item(final int origin)
        {
            this.origin = origin;
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private final LookasidePool<Item>[] pools = new LookasidePool[THREADS];
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final ConcurrentLinkedQueue<Item>[] inboxes = new ConcurrentLinkedQueue[THREADS];
    private final AtomicLong ownerDiscards = new AtomicLong();
    private final AtomicLong foreignDiscards = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    /** Two phases at the end; a thread that fails deregisters, so the others never wait for it. */
    private final Phaser phaser = new Phaser(THREADS);

    @Test
    void capsHoldAndLiveCountsReturnToZero() throws InterruptedException
    {
        final Thread[] threads = new Thread[THREADS];
        for (int i = 0; i < THREADS; i++)
        {
            final int me = i;
            threads[i] = new Thread(() -> run(me), "stress-" + i);
            inboxes[i] = new ConcurrentLinkedQueue<>();
        }
        for (int i = 0; i < THREADS; i++)
        {
            final int me = i;
            final Thread owner = threads[i];
            pools[i] = LookasidePool.<Item>builder("stress-" + i, () -> new Item(me))
                .owner(owner)
                .maxIdle(CAP)
                .returnQueueCapacity(16)
                .sweepInterval(Duration.ofNanos(1000))
                .onDiscard(item ->
                {
                    (Thread.currentThread() == owner ? ownerDiscards : foreignDiscards).incrementAndGet();
                })
                .build();
        }
        for (final Thread t : threads)
        {
            t.start();
        }
        for (final Thread t : threads)
        {
            t.join();
        }
        assertNull(failure.get());

        long created = 0;
        long returns = 0;
        long letGo = 0;
        long droppedElsewhere = 0;
        long idle = 0;
        for (final LookasidePool<Item> pool : pools)
        {
            final PoolStats s = pool.stats();
            assertEquals(0, s.live(), s.toString());
            assertTrue(s.idle() <= CAP, s.toString());
            created += s.misses();
            returns += s.returns();
            letGo += s.drops() + s.evicted();
            // Handed out, and back neither as an owner free nor through the return queue: dropped
            // on another thread because the queue was full.
            droppedElsewhere += s.hits() + s.misses() - s.frees() - s.returns();
            idle += s.idle();
        }
        assertTrue(returns > 0, "some objects crossed threads");
        assertEquals(foreignDiscards.get(), droppedElsewhere, "full-queue drops, counted by the pools and by the hook");
        assertEquals(ownerDiscards.get() + foreignDiscards.get(), letGo, "every object let go was counted once");
        assertEquals(created, idle + letGo, "every object ever created is idle in a pool or was let go");
    }

    private void run(final int me)
    {
        final LookasidePool<Item> pool = pools[me];
        final SplittableRandom random = new SplittableRandom(me * 7919L + 1);
        final List<Item> held = new ArrayList<>();
        long now = 0;
        try
        {
            for (int round = 0; round < ROUNDS && failure.get() == null; round++)
            {
                final int n = 1 + random.nextInt(8);
                for (int i = 0; i < n; i++)
                {
                    final Item item = pool.acquire();
                    if (!item.inUse.compareAndSet(false, true))
                    {
                        fail("an object of pool " + item.origin + " was handed out twice at once");
                    }
                    held.add(item);
                }
                for (final Item item : held)
                {
                    if (random.nextBoolean())
                    {
                        item.inUse.set(false);
                        pools[item.origin].release(item);
                    }
                    else
                    {
                        inboxes[(me + 1 + random.nextInt(THREADS - 1)) % THREADS].add(item);
                    }
                }
                held.clear();
                releaseInbox(me);
                if ((round & 63) == 0)
                {
                    now += 700;
                    pool.onIdle(now);
                }
                final PoolStats s = pool.stats();
                if (s.idle() > CAP)
                {
                    fail("pool " + me + " holds " + s.idle() + " idle objects, over its cap of " + CAP);
                }
            }
            phaser.arriveAndAwaitAdvance();          // nobody sends any more
            releaseInbox(me);
            phaser.arriveAndAwaitAdvance();          // every object has been released to its origin
            while (pool.drainReturns() > 0)
            {
                // drain everything the others returned
            }
        }
        catch (final RuntimeException | Error ex)
        {
            fail(ex.toString());
            phaser.arriveAndDeregister();
        }
    }

    private void releaseInbox(final int me)
    {
        Item item;
        while ((item = inboxes[me].poll()) != null)
        {
            item.inUse.set(false);
            pools[item.origin].release(item);
        }
    }

    private void fail(final String message)
    {
        failure.compareAndSet(null, message);
    }
}
