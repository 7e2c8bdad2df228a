package io.millrace.memory;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two-generation sweep, on a clock the test steps by hand: {@link LookasidePool#onIdle(long)}
 * gets the time as an argument, so nothing here depends on how fast the machine is.
 */
class LookasidePoolSweepTest
{
    /** One sweep interval, in the test's nanoseconds. */
    private static final long I = 1_000_000L;

    static final class Thing
    {
        int uses;
    }

    private final List<Thing> discarded = new ArrayList<>();

    private LookasidePool<Thing> pool(final int maxIdle, final int preallocate)
    {
        return LookasidePool.builder("sweep-test", Thing::new)
            .maxIdle(maxIdle)
            .preallocate(preallocate)
            .sweepInterval(Duration.ofNanos(I))
            .reset(t -> t.uses++)
            .onDiscard(discarded::add)
            .build();
    }

    @Test
    void anIdleObjectIsLetGoWithinTwoSweepIntervalsAndNotWithinOne()
    {
        // Free the object at many points of an interval; step the clock in steps that are not a
        // divisor of the interval, so sweeps land at all sorts of offsets from the free.
        final long[] freeAt = {0, 1, I / 3, I / 2, I - 1, I, I + 1, 2 * I - 7};
        for (final long free : freeAt)
        {
            discarded.clear();
            final LookasidePool<Thing> pool = pool(16, 0);
            final long step = I / 7 + 3;
            long now = 0;
            pool.onIdle(now);
            final Thing thing = pool.acquire();
            while (now + step <= free)
            {
                now += step;
                pool.onIdle(now);
            }
            now = free;
            pool.onIdle(now);
            pool.release(thing);
            long droppedAt = -1;
            while (now < free + 4 * I)
            {
                now += step;
                pool.onIdle(now);
                if (!discarded.isEmpty())
                {
                    droppedAt = now;
                    break;
                }
                assertEquals(1, pool.stats().idle(), "still pooled at " + (now - free) + " ns after the free at " + free);
            }
            assertTrue(droppedAt > 0, "freed at " + free + ": never let go");
            assertSame(thing, discarded.get(0));
            final long idleFor = droppedAt - free;
            assertTrue(idleFor >= I, "freed at " + free + ": let go after " + idleFor + " ns, less than one interval");
            // The sweep that lets it go runs at the first idle turn at least an interval after the
            // previous sweep; with idle turns every `step` that is within 2 intervals + 2 steps.
            assertTrue(idleFor <= 2 * I + 2 * step, "freed at " + free + ": let go only after " + idleFor + " ns");
            assertEquals(0, pool.stats().idle());
            assertEquals(1, pool.stats().evicted());
        }
    }

    @Test
    void exactBoundariesWithTimedSweeps()
    {
        final LookasidePool<Thing> pool = pool(16, 0);
        pool.onIdle(0);
        final Thing thing = pool.acquire();
        pool.onIdle(I / 2);
        pool.release(thing);                  // freed at I/2
        assertEquals(0, pool.onIdle(I - 1), "no sweep before an interval has passed");
        pool.onIdle(I);                       // sweep 1: the object is aged, not let go
        assertTrue(discarded.isEmpty());
        pool.onIdle(I / 2 + I - 1);           // one interval after the free, minus 1 ns
        pool.onIdle(2 * I - 1);               // no sweep: the last was at I
        assertTrue(discarded.isEmpty());
        assertEquals(1, pool.stats().idle());
        pool.onIdle(2 * I);                   // sweep 2: let go, 1.5 intervals after the free
        assertEquals(List.of(thing), discarded);
        assertEquals(2, pool.stats().sweeps());

        final Thing fresh = pool.acquire();
        assertNotSame(thing, fresh, "a let-go object is not handed out again");
        assertEquals(2, pool.stats().misses());
    }

    @Test
    void explicitSweepsAgeThenLetGo()
    {
        final LookasidePool<Thing> pool = pool(16, 0);
        final Thing thing = pool.acquire();
        pool.release(thing);
        assertEquals(0, pool.sweep());
        assertEquals(1, pool.stats().idle());
        assertSame(thing, pool.acquire(), "an aged object is still handed out (new first, then old)");
        pool.release(thing);
        assertEquals(0, pool.sweep(), "reuse made it young again");
        assertEquals(1, pool.sweep());
        assertEquals(List.of(thing), discarded);
    }

    @Test
    void aBusyPoolKeepsItsObjectsAndLetsGoOnlyWhatItDoesNotUse()
    {
        final LookasidePool<Thing> pool = pool(64, 0);
        final List<Thing> all = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            all.add(pool.acquire());
        }
        all.forEach(pool::release);
        pool.onIdle(0);
        // Every interval, use 4 of the 10 at once: the 4 stay, the 6 others go after two sweeps.
        final Set<Thing> used = new HashSet<>();
        for (int round = 1; round <= 20; round++)
        {
            final List<Thing> batch = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                batch.add(pool.acquire());
            }
            used.addAll(batch);
            batch.forEach(pool::release);
            pool.onIdle(round * I);
        }
        assertEquals(4, used.size(), "the same 4 objects served every round (LIFO from the new generation)");
        assertEquals(6, discarded.size());
        for (final Thing t : discarded)
        {
            assertFalse(used.contains(t), "a busy object was let go");
        }
        assertEquals(4, pool.stats().idle());
        assertEquals(10, pool.stats().misses(), "nothing was re-created");
        assertEquals(80, pool.stats().hits());
    }

    @Test
    void preallocatedObjectsAreAFloorThatSweepsKeep()
    {
        final LookasidePool<Thing> pool = pool(16, 5);
        assertEquals(5, pool.stats().idle());
        for (int i = 0; i < 10; i++)
        {
            pool.sweep();
        }
        assertEquals(5, pool.stats().idle());
        assertTrue(discarded.isEmpty());

        final List<Thing> taken = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            taken.add(pool.acquire());
        }
        assertEquals(5, pool.stats().hits());
        assertEquals(3, pool.stats().misses());
        taken.forEach(pool::release);
        pool.sweep();
        pool.sweep();
        assertEquals(5, pool.stats().idle(), "swept down to the floor, not below");
        assertEquals(3, discarded.size());
    }

    @Test
    void theCapHoldsAndTheOldestIdleObjectGoesFirst()
    {
        final LookasidePool<Thing> pool = pool(4, 0);
        final List<Thing> taken = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            taken.add(pool.acquire());
        }
        taken.forEach(pool::release);
        pool.sweep();                                   // the 4 are now old
        final List<Thing> more = new ArrayList<>();
        for (int i = 0; i < 6; i++)
        {
            more.add(new Thing());
        }
        // Releasing objects the pool did not create is allowed; it keeps at most 4.
        more.forEach(pool::release);
        assertEquals(4, pool.stats().idle());
        assertEquals(6, pool.stats().drops());
        assertEquals(6, discarded.size());
        assertTrue(discarded.containsAll(taken), "the old generation went first");
        assertEquals(2, discarded.stream().filter(more::contains).count());
    }

    @Test
    void theResetHookRunsOnEveryRelease()
    {
        final LookasidePool<Thing> pool = pool(4, 0);
        final Thing thing = pool.acquire();
        pool.release(thing);
        assertSame(thing, pool.acquire());
        pool.release(thing);
        assertEquals(2, thing.uses);
    }

    @Test
    void onlyTheOwnerAcquiresSweepsAndDrains() throws InterruptedException
    {
        final LookasidePool<Thing> pool = pool(4, 0);
        pool.release(pool.acquire());
        final AtomicReference<Throwable> acquire = new AtomicReference<>();
        final AtomicReference<Throwable> sweep = new AtomicReference<>();
        final Thread other = new Thread(() ->
        {
            try
            {
                pool.acquire();
            }
            catch (final Throwable t)
            {
                acquire.set(t);
            }
            try
            {
                pool.onIdle(0);
            }
            catch (final Throwable t)
            {
                sweep.set(t);
            }
        }, "not-the-owner");
        other.start();
        other.join();
        assertInstanceOf(IllegalStateException.class, acquire.get());
        assertTrue(acquire.get().getMessage().contains("not-the-owner"), acquire.get().getMessage());
        assertInstanceOf(IllegalStateException.class, sweep.get());
        assertSame(Thread.currentThread(), pool.owner());
    }
}
