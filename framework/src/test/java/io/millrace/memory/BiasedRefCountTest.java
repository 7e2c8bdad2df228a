package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RefCounted}'s biased counts: plain counting on the owner, the hand-over to shared counting
 * when another thread retains or releases, the owner's merge queue drained on allocation and on the
 * idle turn, use after release failing fast on every thread. The allocator is owned by the test
 * thread. {@link BiasedRefCountConcurrencyTest} has many holders at once.
 */
@Timeout(60)
class BiasedRefCountTest
{
    private final List<LeakReport> leaks = new CopyOnWriteArrayList<>();
    private final LeakDetector detector = LeakDetector.paranoid().onLeak(leaks::add);
    private final SlabArena arena = SlabArena.builder()
        .chunkSize(16 * 1024).slabSize(256 * 1024).maxSlabs(32).leakDetector(detector).build();
    private final BufferAllocator alloc = arena.newAllocator("owner", Thread.currentThread());

    /** Runs {@code action} on a new thread and waits for it; its exception, if any, is rethrown here. */
    private static void onOtherThread(final Runnable action) throws InterruptedException
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread t = new Thread(() ->
        {
            try
            {
                action.run();
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
        }, "other");
        t.start();
        t.join();
        if (failure.get() instanceof RuntimeException ex)
        {
            throw ex;
        }
        if (failure.get() instanceof Error err)
        {
            throw err;
        }
    }

    private static long word(final RefCounted r) throws ReflectiveOperationException
    {
        final var f = RefCounted.class.getDeclaredField("word");
        f.setAccessible(true);
        return f.getLong(r);
    }

    @Test
    void onTheOwnerTheCountIsPlainAndTheLastReleaseDeallocatesAtOnce() throws ReflectiveOperationException
    {
        final BufferDescriptor d = alloc.allocate(40);
        d.retain().retain();
        assertEquals(3, d.refCnt());
        assertEquals(0L, word(d), "the shared word is untouched: no CAS happened");
        assertFalse(d.release());
        assertFalse(d.release());
        assertEquals(1, d.refCnt());
        assertEquals(0L, word(d));
        assertTrue(d.release(), "the last release, on the owner, deallocates at once");
        assertEquals(0, d.refCnt());
        assertEquals(0, alloc.descriptorStats().live(), "back in the pool without any drain");
        assertEquals(0, detector.tracked(), "the leak tracker was closed by the release");
        assertSame(d, alloc.allocate(40), "the pool hands the same descriptor out again");
    }

    @Test
    void aFreshChunksFirstViewSlotNeedsNoCasAndSlicesStillGetTheirOwn()
    {
        final BufferDescriptor d = alloc.allocate().put(new byte[] {1, 2, 3});
        assertEquals(0, d.viewSlot(), "the fresh chunk's first slot");
        final BufferDescriptor s = alloc.slice(d, 1, 2);
        assertEquals(1, s.viewSlot(), "a second descriptor on the chunk takes the next slot");
        assertTrue(d.release());                // the chunk is still held by the slice: an atomic give-back
        assertEquals(2, s.readableBuffer().get(s.readableBuffer().position()));
        assertTrue(s.release());                // the chunk's only holder, on its owner: a plain give-back
        final BufferDescriptor again = alloc.allocate();
        assertEquals(0, again.viewSlot(), "every slot was given back: the mask is 0 again");
        final BufferDescriptor slice = alloc.slice(again);
        assertEquals(1, slice.viewSlot());
        again.release();
        slice.release();
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, alloc.chunkStats().live());
    }

    @Test
    void useAfterReleaseFailsFastOnTheOwner()
    {
        final BufferDescriptor d = alloc.allocate(40);
        assertTrue(d.release());
        assertThrows(IllegalReferenceCountException.class, d::release);
        assertThrows(IllegalReferenceCountException.class, d::retain);
        assertThrows(IllegalReferenceCountException.class, d::length);
        assertThrows(IllegalReferenceCountException.class, () -> d.put(new byte[] {1}));
    }

    @Test
    void releasedOnAnotherThreadItReturnsThroughTheMergeQueueOnTheNextAllocation() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40).put(new byte[] {42});
        final boolean[] last = new boolean[1];
        onOtherThread(() -> last[0] = d.release());
        assertTrue(last[0], "the other thread held the only reference, and could tell");
        assertEquals(0, d.refCnt());
        assertThrows(IllegalReferenceCountException.class, d::length, "released is released, on the owner too");
        assertEquals(1, alloc.descriptorStats().live(), "not deallocated yet: that happens on the owner");
        assertEquals(1, detector.tracked());

        final BufferDescriptor again = alloc.allocate(40);
        assertSame(d, again, "allocate() drained the merge queue first, so the pool had the descriptor back");
        assertEquals(1, again.refCnt());
        assertEquals(0L, word(again), "reused owner-biased, with a fresh word");
        assertEquals(1, alloc.descriptorStats().live());
        assertTrue(again.release());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, detector.tracked());
    }

    @Test
    void useAfterReleaseFailsFastOnTheReleasingThread() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40);
        onOtherThread(() ->
        {
            assertTrue(d.release());
            assertThrows(IllegalReferenceCountException.class, d::retain, "a retain after the last release");
            assertThrows(IllegalReferenceCountException.class, d::release, "a second release");
            assertThrows(IllegalReferenceCountException.class, d::readableBuffer);
        });
        alloc.onIdle(System.nanoTime());
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void aRetainOnAnotherThreadAfterTheOwnersLastReleaseFails() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40);
        assertTrue(d.release());
        onOtherThread(() -> assertThrows(IllegalReferenceCountException.class, d::retain));
    }

    @Test
    void theOwnerReleasesLastAfterAnotherThreadDroppedItsShare() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40).retain();     // one for us, one for the other thread
        onOtherThread(() -> assertFalse(d.release(), "the owner still holds one"));
        assertEquals(1, d.refCnt(), "local 2 + shared -1");
        assertEquals(2, d.length() + 2, "still usable on the owner");
        assertTrue(d.release(), "the owner's is the last");
        assertEquals(0, d.refCnt());
        assertThrows(IllegalReferenceCountException.class, d::retain);
        assertEquals(1, alloc.descriptorStats().live(), "it was in the merge queue: the drain deallocates it");
        assertTrue(alloc.onIdle(System.nanoTime()) > 0);
        assertEquals(0, alloc.descriptorStats().live(), "drained on the idle turn");
        assertEquals(0, detector.tracked());
    }

    @Test
    void aPartialShareGoesBackToTheOwnerAndTheCountIsOwnerBiasedAgain() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40).retain().retain();   // three: two go to the other thread
        onOtherThread(() ->
        {
            assertFalse(d.release());
            assertFalse(d.release());
        });
        assertEquals(1, d.refCnt());
        alloc.onIdle(System.nanoTime());
        assertEquals(0L, word(d) >> 32, "the drain moved the shared -2 into the owner's count");
        assertEquals(1, d.refCnt());
        assertTrue(d.release(), "and the owner's release deallocates at once, as if never shared");
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void whenTheOwnerLetsGoFirstTheOtherThreadsReleaseIsTheLast() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40).put(new byte[] {7});
        final CountDownLatch retained = new CountDownLatch(1);
        final CountDownLatch ownerDone = new CountDownLatch(1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final boolean[] last = new boolean[1];
        final Thread other = new Thread(() ->
        {
            try
            {
                d.retain();                         // while the owner still holds its reference
                retained.countDown();
                assertTrue(ownerDone.await(10, TimeUnit.SECONDS));
                assertEquals(1, d.length(), "still alive after the owner let go");
                assertEquals(1, d.refCnt());
                last[0] = d.release();
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
        }, "other");
        other.start();
        assertTrue(retained.await(10, TimeUnit.SECONDS));
        assertEquals(2, d.refCnt());
        assertFalse(d.release(), "the owner's count goes to zero; the other thread's share stays");
        assertEquals(1, d.refCnt());
        assertTrue((word(d) & RefCounted.MERGED) != 0, "merged: the shared count is the whole count now");
        ownerDone.countDown();
        other.join();
        assertNull(failure.get());
        assertTrue(last[0]);
        assertEquals(1, alloc.descriptorStats().live());
        assertSame(d, alloc.allocate(40), "drained on allocation");
    }

    @Test
    void aRetainOnTheOwnerOfAReferenceThatCameBackAfterTheMergeUsesTheSharedCount() throws Exception
    {
        final BufferDescriptor d = alloc.allocate(40);
        final BlockingQueue<BufferDescriptor> back = new ArrayBlockingQueue<>(1);
        final CountDownLatch retained = new CountDownLatch(1);
        final Thread other = new Thread(() ->
        {
            d.retain();
            retained.countDown();
            back.add(d);                            // its reference comes home
        });
        other.start();
        assertTrue(retained.await(10, TimeUnit.SECONDS));
        assertFalse(d.release());                   // the owner's own: merged
        final BufferDescriptor home = back.poll(10, TimeUnit.SECONDS);
        other.join();
        assertNotNull(home);
        home.retain();
        assertEquals(2, home.refCnt());
        assertFalse(home.release());
        assertTrue(home.release(), "the last release on the owner of a merged count deallocates here");
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void releasingALinkedDescriptorOnAnotherThreadStillThrows() throws Exception
    {
        final BufferChain chain = alloc.newChain();
        final BufferDescriptor d = alloc.allocate(40);
        chain.append(d);
        onOtherThread(() -> assertThrows(IllegalStateException.class, d::release));
        assertEquals(1, d.refCnt());
        assertTrue(chain.release());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, alloc.chainStats().live());
    }

    @Test
    void aChainReleasedOnAnotherThreadReleasesItsDescriptorsOnTheOwner() throws Exception
    {
        final BufferChain chain = alloc.newChain().append(alloc.allocate(40)).append(alloc.allocate());
        onOtherThread(() -> assertTrue(chain.release()));
        assertEquals(1, alloc.chainStats().live());
        assertEquals(2, alloc.descriptorStats().live());
        alloc.onIdle(System.nanoTime());
        assertEquals(0, alloc.chainStats().live());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, detector.tracked());
    }

    @Test
    void afterTheOwnerStoppedReleasesSettleOnTheReleasingThread() throws Exception
    {
        final BlockingQueue<BufferDescriptor> out = new ArrayBlockingQueue<>(4);
        final BufferAllocator[] a = new BufferAllocator[1];
        final Thread owner = new Thread(() ->
        {
            a[0] = arena.newAllocator("stopped", Thread.currentThread());
            out.add(a[0].allocate(40));
            out.add(a[0].allocate().retain());      // two references
            out.add(a[0].allocate(100));
        }, "short-lived-owner");
        owner.start();
        owner.join();
        final BufferDescriptor small = out.take();
        final BufferDescriptor big = out.take();
        final BufferDescriptor other = out.take();
        assertTrue(small.release(), "the only reference: queued for an owner that will never drain");
        assertEquals(3, a[0].descriptorStats().live());
        a[0].ownerStopped();
        assertEquals(2, a[0].descriptorStats().live(), "the queued one was settled by ownerStopped()");
        assertFalse(big.release());
        assertTrue(big.release());
        assertTrue(other.release());
        assertEquals(0, a[0].descriptorStats().live(), "settled at once on this thread");
        assertEquals(0, a[0].chunkStats().live(), "every chunk back, the shared small-buffer ones too");
        assertEquals(0, detector.tracked());
    }
}
