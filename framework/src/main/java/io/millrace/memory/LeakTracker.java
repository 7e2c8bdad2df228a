package io.millrace.memory;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches one allocation of one descriptor. It is a phantom reference to the descriptor, kept
 * strongly reachable by the detector's set of live trackers; the descriptor's last release
 * {@link #close() closes} it. If the descriptor becomes unreachable first, the garbage collector
 * enqueues the tracker and the detector reports the allocation site.
 *
 * <p>It holds the chunk (not the descriptor) strongly, so that a reported leak can give the
 * chunk's reference back and the slab does not lose the memory.
 *
 * <p>Threading: made by the allocating thread; closed by whichever thread releases the
 * descriptor; {@link #record(Object) touches} are synchronized, since they are rare and only at
 * the paranoid level.
 */
final class LeakTracker extends PhantomReference<Object>
{
    private static final int MAX_TOUCHES = 8;

    private final LeakDetector detector;
    private final String buffer;
    private final Throwable allocationSite;
    private final Chunk chunk;
    private final int viewSlot;
    private final boolean recordTouches;
    private final String[] touches;
    private int touchCount;

    LeakTracker(final BufferDescriptor referent, final ReferenceQueue<Object> queue, final LeakDetector detector,
        final boolean recordTouches)
    {
        super(referent, queue);
        this.detector = detector;
        this.buffer = referent.allocatorName() + "#" + referent.serial();
        this.allocationSite = new Throwable("allocation site");
        this.chunk = referent.chunk;
        this.viewSlot = referent.viewSlot();
        this.recordTouches = recordTouches;
        this.touches = recordTouches ? new String[MAX_TOUCHES] : null;
    }

    void record(final Object hint)
    {
        if (!recordTouches)
        {
            return;
        }
        final String site = LeakDetector.firstCaller(new Throwable().getStackTrace());
        final String line = hint + " at " + site + " on " + Thread.currentThread().getName();
        synchronized (this)
        {
            touches[touchCount++ % MAX_TOUCHES] = line;
        }
    }

    /** The descriptor was released: stop watching it. */
    void close()
    {
        detector.forget(this);
        clear();
    }

    LeakReport report()
    {
        final List<String> recent = new ArrayList<>();
        synchronized (this)
        {
            final int n = Math.min(touchCount, MAX_TOUCHES);
            for (int i = touchCount - n; i < touchCount; i++)
            {
                recent.add(touches[i % MAX_TOUCHES]);
            }
        }
        return new LeakReport(buffer, LeakDetector.format(allocationSite.getStackTrace()), List.copyOf(recent));
    }

    /** Gives back the chunk reference the leaked descriptor held; null for file regions. */
    Chunk chunk()
    {
        return chunk;
    }

    int viewSlot()
    {
        return viewSlot;
    }
}
