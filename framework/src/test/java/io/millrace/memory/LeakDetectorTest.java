package io.millrace.memory;

import io.millrace.testing.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leak detector at the paranoid level. A leak is found by the garbage collector, so the test
 * asks for collections until the report arrives, a bounded number of times; whether it passes
 * does not depend on timing.
 */
@Timeout(60)
class LeakDetectorTest
{
    private final List<LeakReport> reports = new CopyOnWriteArrayList<>();

    private BufferAllocator allocator(final LeakDetector detector, final String name)
    {
        detector.onLeak(reports::add);
        return SlabArena.builder().chunkSize(4096).slabSize(16 * 1024).maxSlabs(1).leakDetector(detector).build()
            .newAllocator(name);
    }

    /** Allocates a buffer and drops it without release: the leak under test. */
    private static void allocateAndForget(final BufferAllocator alloc)
    {
        final BufferDescriptor d = alloc.allocate();
        d.put(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        d.touch("parsed by stage-x");
    }

    private static int collectUntilReported(final LeakDetector detector, final int wanted) throws InterruptedException
    {
        int found = 0;
        for (int attempt = 0; attempt < 200 && found < wanted; attempt++)
        {
            System.gc();
            Thread.sleep(5);
            found += detector.poll();
        }
        return found;
    }

    @Test
    void aLeakedBufferIsReportedWithItsAllocationSite() throws InterruptedException
    {
        final LeakDetector detector = LeakDetector.paranoid();
        final BufferAllocator alloc = allocator(detector, "leaky");
        allocateAndForget(alloc);
        assertEquals(1, alloc.chunkStats().live());
        assertEquals(1, detector.tracked());

        assertEquals(1, collectUntilReported(detector, 1), "the leak was found");
        assertEquals(1, reports.size());
        final LeakReport report = reports.get(0);
        assertEquals("leaky#1", report.buffer());
        final String firstFrame = report.allocationSite().lines().findFirst().orElseThrow();
        assertTrue(firstFrame.contains("LeakDetectorTest.allocateAndForget(LeakDetectorTest.java:"),
            "the report starts at the caller of the allocator:\n" + report.allocationSite());
        assertEquals(1, report.touches().size());
        assertTrue(report.touches().get(0).startsWith("parsed by stage-x at io.millrace.memory.LeakDetectorTest.allocateAndForget"),
            report.touches().get(0));
        assertEquals(1, detector.leaksReported());
        assertEquals(0, detector.tracked());

        final List<CapturedLog.Line> logged = CapturedLog.lines("LEAK: buffer leaky#1 ");
        assertEquals(1, logged.size());
        assertEquals("ERROR", logged.get(0).level());
        assertTrue(logged.get(0).message().contains("LeakDetectorTest.allocateAndForget"), logged.get(0).message());

        // The leaked buffer's chunk was given back: the pool counts it returned, nothing is live.
        alloc.onIdle(0);
        assertEquals(0, alloc.chunkStats().live());
        alloc.allocate().release();
        assertEquals(0, alloc.arena().exhaustions(), "the chunk was reusable");
    }

    @Test
    void releasedBuffersAreNeverReported() throws InterruptedException
    {
        final LeakDetector detector = LeakDetector.paranoid();
        final BufferAllocator alloc = allocator(detector, "tidy");
        for (int i = 0; i < 100; i++)
        {
            final BufferChain chain = alloc.newChain().append(alloc.allocate());
            chain.append(alloc.slice(chain.first()));
            chain.release();
        }
        assertEquals(0, detector.tracked());
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            Thread.sleep(5);
            assertEquals(0, detector.poll());
        }
        assertTrue(reports.isEmpty());
        assertTrue(CapturedLog.lines("LEAK: buffer tidy#").isEmpty());
    }

    @Test
    void disabledTracksNothingAndSampledAtOneTracksEverything()
    {
        final LeakDetector off = LeakDetector.disabled();
        final BufferDescriptor untracked = allocator(off, "off").allocate();
        assertNull(untracked.leak);
        assertEquals(0, off.tracked());
        untracked.release();

        final LeakDetector all = LeakDetector.sampled(1);
        final BufferDescriptor tracked = allocator(all, "all").allocate();
        assertNotNull(tracked.leak);
        assertEquals(1, all.tracked());
        tracked.touch("ignored below paranoid");
        tracked.release();
        assertEquals(0, all.tracked());
    }
}
