package io.millrace.memory;

import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.LeakReportEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Finds buffers that became unreachable without their last {@code release()} and reports where
 * they were allocated, in the manner of Netty's {@code ResourceLeakDetector}.
 *
 * <p>A tracked allocation gets a phantom reference (and a captured stack) that its last release
 * cancels. If the garbage collector finds the buffer unreachable first, the reference is queued,
 * and the next {@link #poll()} logs the report through SLF4J at ERROR, passes it to the listener
 * and gives the buffer's chunk back, so a leak costs a log line rather than slab memory. No
 * finalizers. Reports appear after a garbage collection, on the thread that polls: every
 * {@link BufferAllocator#onIdle(long)} and every tracked allocation polls.
 *
 * <p>Levels: {@link Level#DISABLED} tracks nothing; {@link Level#SIMPLE} tracks a random sample
 * of allocations (one in {@link #samplingInterval()}), for production; {@link Level#PARANOID}
 * tracks every allocation and records {@link BufferDescriptor#touch touches}, for tests. An
 * untracked allocation costs one random draw at SIMPLE and nothing at DISABLED; a tracked one
 * costs a stack capture, two small objects and a concurrent-set insert, which is why production
 * samples.
 *
 * <p>Threading: thread-safe. Allocators on all threads share one detector; any thread may poll.
 */
public final class LeakDetector
{
    /** How thoroughly to look. */
    public enum Level
    {
        /** Track nothing. */
        DISABLED,
        /** Track a random sample of allocations; report their allocation sites. */
        SIMPLE,
        /** Track every allocation and its touches. Slow; for tests. */
        PARANOID
    }

    /** Default sampling interval at {@link Level#SIMPLE}: one allocation in 128, as in Netty. */
    public static final int DEFAULT_SAMPLING_INTERVAL = 128;

    /**
     * The sampling interval of {@link #production()}: one allocation in 16,384. A tracked
     * allocation costs a stack capture (about 1.5 KB of garbage), so at 1 in 128 a server that takes
     * two or three buffers per request allocates some 36 bytes per request for leak tracking alone
     * (measured by HttpServerAllocationTest's method); at 1 in 16,384 it is under half a byte. A
     * leak on a hot path repeats with every request, so it is still sampled within a fraction of a
     * second at tens of thousands of requests per second.
     */
    public static final int PRODUCTION_SAMPLING_INTERVAL = 16_384;

    private static final Logger LOG = LoggerFactory.getLogger(LeakDetector.class);
    private static final int MAX_FRAMES = 24;
    private static final Set<String> INTERNAL = Set.of(LeakDetector.class.getName(), LeakTracker.class.getName(),
        BufferAllocator.class.getName(), BufferDescriptor.class.getName(), BufferChain.class.getName(),
        RefCounted.class.getName());
    private static final VarHandle REPORTED;

    static
    {
        try
        {
            REPORTED = MethodHandles.lookup().findVarHandle(LeakDetector.class, "reported", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final Level level;
    private final int samplingInterval;
    private final ReferenceQueue<Object> queue = new ReferenceQueue<>();
    private final Set<LeakTracker> live = ConcurrentHashMap.newKeySet();
    private volatile Consumer<? super LeakReport> listener;
    @SuppressWarnings("unused")
    private volatile long reported;

    private LeakDetector(final Level level, final int samplingInterval)
    {
        this.level = level;
        this.samplingInterval = samplingInterval;
    }

    /**
     * @return a detector that tracks nothing
     */
    public static LeakDetector disabled()
    {
        return new LeakDetector(Level.DISABLED, 0);
    }

    /**
     * @param interval track one allocation in {@code interval} on average (1 tracks all, without
     *                 touches)
     * @return a {@link Level#SIMPLE} detector
     */
    public static LeakDetector sampled(final int interval)
    {
        if (interval < 1)
        {
            throw new IllegalArgumentException("sampling interval must be >= 1, was " + interval);
        }
        return new LeakDetector(Level.SIMPLE, interval);
    }

    /**
     * @return a {@link Level#SIMPLE} detector cheap enough to leave on in a server: one allocation
     *         in {@link #PRODUCTION_SAMPLING_INTERVAL}
     */
    public static LeakDetector production()
    {
        return sampled(PRODUCTION_SAMPLING_INTERVAL);
    }

    /**
     * @return a {@link Level#PARANOID} detector: every buffer, with touches
     */
    public static LeakDetector paranoid()
    {
        return new LeakDetector(Level.PARANOID, 1);
    }

    /**
     * @param onLeak called with each report, on the polling thread, after it is logged; replaces
     *               any previous listener
     * @return this detector
     */
    public LeakDetector onLeak(final Consumer<? super LeakReport> onLeak)
    {
        this.listener = Objects.requireNonNull(onLeak, "onLeak");
        return this;
    }

    /**
     * @return the level
     */
    public Level level()
    {
        return level;
    }

    /**
     * @return one tracked allocation in this many at {@link Level#SIMPLE}; 1 at PARANOID, 0 when disabled
     */
    public int samplingInterval()
    {
        return samplingInterval;
    }

    /**
     * @return leaks reported so far
     */
    public long leaksReported()
    {
        return (long)REPORTED.getVolatile(this);
    }

    /**
     * @return tracked buffers not yet released
     */
    public int tracked()
    {
        return live.size();
    }

    /**
     * Reports every tracked buffer the garbage collector has found unreachable since the last poll.
     * Cheap when there is none (one volatile read).
     *
     * @return leaks reported by this call
     */
    public int poll()
    {
        int n = 0;
        Reference<?> ref;
        while ((ref = queue.poll()) != null)
        {
            final LeakTracker tracker = (LeakTracker)ref;
            // Removal decides: a tracker closed by a release in the meantime is not a leak.
            if (live.remove(tracker))
            {
                n++;
                REPORTED.getAndAdd(this, 1L);
                report(tracker);
            }
        }
        return n;
    }

    /**
     * @return a tracker for this allocation, or null if it is not sampled
     */
    LeakTracker track(final BufferDescriptor d)
    {
        if (level == Level.DISABLED ||
            (level == Level.SIMPLE && samplingInterval > 1 && ThreadLocalRandom.current().nextInt(samplingInterval) != 0))
        {
            return null;
        }
        poll();
        final LeakTracker tracker = new LeakTracker(d, queue, this, level == Level.PARANOID);
        live.add(tracker);
        return tracker;
    }

    void forget(final LeakTracker tracker)
    {
        live.remove(tracker);
    }

    private void report(final LeakTracker tracker)
    {
        final LeakReport report = tracker.report();
        LOG.error("{}", report);
        if (JfrSwitch.recorderUp() && LeakReportEvent.enabled())
        {
            LeakReportEvent.emit(report.buffer(), report.allocationSite(), String.join("\n", report.touches()));
        }
        final Chunk chunk = tracker.chunk();
        if (chunk != null)
        {
            try
            {
                chunk.giveBackViewSlot(tracker.viewSlot());
                chunk.release();
            }
            catch (final RuntimeException ex)
            {
                LOG.error("could not give back the chunk of leaked buffer {}", report.buffer(), ex);
            }
        }
        final Consumer<? super LeakReport> l = listener;
        if (l != null)
        {
            try
            {
                l.accept(report);
            }
            catch (final RuntimeException ex)
            {
                LOG.error("the leak listener threw on the report for {}", report.buffer(), ex);
            }
        }
    }

    /** The frames from the first one outside the allocator's own classes, one per line. */
    static String format(final StackTraceElement[] frames)
    {
        final StringBuilder sb = new StringBuilder(512);
        int i = 0;
        while (i < frames.length && INTERNAL.contains(frames[i].getClassName()))
        {
            i++;
        }
        final int end = Math.min(frames.length, i + MAX_FRAMES);
        for (; i < end; i++)
        {
            sb.append("\tat ").append(frames[i]).append('\n');
        }
        if (end < frames.length)
        {
            sb.append("\t... ").append(frames.length - end).append(" more\n");
        }
        return sb.toString();
    }

    static String firstCaller(final StackTraceElement[] frames)
    {
        for (final StackTraceElement frame : frames)
        {
            if (!INTERNAL.contains(frame.getClassName()))
            {
                return frame.toString();
            }
        }
        return "?";
    }
}
