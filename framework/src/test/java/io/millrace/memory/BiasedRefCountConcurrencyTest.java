package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RefCounted}'s biased counts with holders on several threads at once: buffers handed out with
 * extra references, retained and released at random on two other threads and on the owner, some
 * references coming back to the owner; and one buffer hammered from three threads. A count that goes
 * wrong shows as an exception, a buffer reused while held, or pools and chunks not all back. Whether
 * a run fails depends on the interleavings it meets, never on how fast it runs.
 */
@Timeout(60)
class BiasedRefCountConcurrencyTest
{
    private final List<LeakReport> leaks = new CopyOnWriteArrayList<>();
    private final LeakDetector detector = LeakDetector.paranoid().onLeak(leaks::add);
    private final SlabArena arena = SlabArena.builder()
        .chunkSize(16 * 1024).slabSize(256 * 1024).maxSlabs(32).leakDetector(detector).build();
    private final BufferAllocator alloc = arena.newAllocator("owner", Thread.currentThread());

    /**
     * Many threads: the owner allocates, writes a stamp and hands each buffer out with extra
     * references, to two other threads that check the stamp, retain and release at random, and hand
     * some references back to the owner. Every buffer's references all end up released, some last on
     * the owner, some elsewhere. A count that went wrong shows as an exception, a buffer handed out
     * while still held (a stamp overwritten, or the same descriptor twice among the live ones), or
     * descriptors and chunks not all back at the end.
     */
    @Test
    void concurrentHoldersOnThreeThreadsLoseNoCountAndFreeNothingTwice() throws Exception
    {
        final int buffers = 20_000;
        final BlockingQueue<BufferDescriptor> toOthers = new ArrayBlockingQueue<>(16);
        final BlockingQueue<BufferDescriptor> toOwner = new ArrayBlockingQueue<>(2 * buffers);
        final Set<BufferDescriptor> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final BufferDescriptor poison = alloc.allocate(8);
        final List<Thread> others = new ArrayList<>();
        for (int t = 0; t < 2; t++)
        {
            final Thread other = new Thread(() ->
            {
                final ThreadLocalRandom random = ThreadLocalRandom.current();
                try
                {
                    for (;;)
                    {
                        final BufferDescriptor d = toOthers.take();
                        if (d == poison)
                        {
                            return;
                        }
                        // We hold two references: one we keep, one that may go back to the owner.
                        final long stamp = d.readableBuffer().getLong(d.readableBuffer().position());
                        for (int i = random.nextInt(3); i > 0; i--)
                        {
                            d.retain();
                            Thread.onSpinWait();
                            d.release();
                        }
                        if (random.nextBoolean())
                        {
                            toOwner.add(d);
                        }
                        else
                        {
                            d.release();
                        }
                        if (d.readableBuffer().getLong(d.readableBuffer().position()) != stamp)
                        {
                            throw new AssertionError("buffer reused while still held");
                        }
                        live.remove(d);
                        d.release();
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }, "holder-" + t);
            others.add(other);
            other.start();
        }
        try
        {
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            for (long i = 0; i < buffers && failure.get() == null; i++)
            {
                final BufferDescriptor d = random.nextBoolean() ? alloc.allocate(40) : alloc.allocate();
                if (!live.add(d))
                {
                    throw new AssertionError(d + " handed out while another holder still had it");
                }
                d.put(longBytes(i));
                d.retain();                                         // the second reference goes along
                if (random.nextInt(4) == 0)
                {
                    d.retain();                                     // and one the owner keeps a little
                    toOthers.put(d);
                    d.release();
                }
                else
                {
                    toOthers.put(d);
                }
                BufferDescriptor back;
                while ((back = toOwner.poll()) != null)
                {
                    back.release();
                }
                if ((i & 1023) == 0)
                {
                    alloc.onIdle(System.nanoTime());
                }
            }
        }
        finally
        {
            for (int t = 0; t < others.size(); t++)
            {
                toOthers.put(poison);
            }
            for (final Thread other : others)
            {
                other.join();
            }
        }
        assertNull(failure.get(), () -> "a holder failed: " + failure.get());
        BufferDescriptor back;
        while ((back = toOwner.poll()) != null)
        {
            back.release();
        }
        assertTrue(poison.release());
        alloc.onIdle(System.nanoTime());
        assertEquals(0, alloc.descriptorStats().live(), () -> "descriptors not back: " + alloc.descriptorStats());
        assertEquals(alloc.smallBufferStats().chunksHeld(), alloc.chunkStats().live(),
            () -> "chunks not back: only the allocator's current small-buffer chunks may be out: " + alloc.chunkStats());
        assertEquals(0, detector.tracked());
        assertTrue(leaks.isEmpty(), () -> "leaks: " + leaks);
    }

    /**
     * Two threads retain and release one buffer as fast as they can while the owner does the same,
     * then everyone lets go: exactly one deallocation, none early (every thread's own reference keeps
     * it alive, so a wrong count shows as an exception in a retain).
     */
    @Test
    void hammeringOneBufferFromThreeThreadsKeepsItAliveUntilTheLastRelease() throws Exception
    {
        for (int round = 0; round < 20; round++)
        {
            final BufferDescriptor d = alloc.allocate(40).retain().retain();    // one per thread
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final CountDownLatch go = new CountDownLatch(1);
            final int[] lasts = new int[3];
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++)
            {
                final int me = t;
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        go.await();
                        for (int i = 0; i < 20_000; i++)
                        {
                            d.retain();
                            if (d.release())
                            {
                                throw new AssertionError("a balanced release was the last");
                            }
                        }
                        lasts[me] = d.release() ? 1 : 0;
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            go.countDown();
            for (int i = 0; i < 20_000; i++)
            {
                d.retain();
                assertFalse(d.release());
            }
            lasts[2] = d.release() ? 1 : 0;
            for (final Thread thread : threads)
            {
                thread.join();
            }
            assertNull(failure.get(), () -> "round failed: " + failure.get());
            alloc.onIdle(System.nanoTime());
            assertEquals(0, d.refCnt());
            assertEquals(0, alloc.descriptorStats().live(), "round " + round + ": deallocated exactly once");
            assertTrue(lasts[0] + lasts[1] + lasts[2] <= 1, "at most one release reported itself the last");
        }
    }

    private static byte[] longBytes(final long v)
    {
        final byte[] b = new byte[8];
        java.nio.ByteBuffer.wrap(b).putLong(v);
        return b;
    }
}
