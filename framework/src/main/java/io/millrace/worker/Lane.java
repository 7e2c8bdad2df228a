package io.millrace.worker;

import org.HdrHistogram.Histogram;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The metrics of one recording thread (a worker, or one thread of a blocking stage): per stage the
 * dispatch, error, parked and re-dispatch counters and the service-time and queue-wait histograms;
 * on a worker's lane also the end-to-end latency and inbox batch-size histograms.
 *
 * <h2>Writer side: plain writes</h2>
 * One thread writes a lane. A counter is a plain add published with an opaque store (a plain move on
 * x86), so readers see untorn, eventually current values; counts are always exact. A histogram record
 * is a plain HdrHistogram {@link Histogram#recordValue}: no allocation, no fence, and no atomic but
 * HdrHistogram's own minimum and maximum tracking (volatile fields: a plain load on x86, and a CAS
 * when a record sets a new extreme of the interval, a handful per interval). The histograms come in
 * two {@linkplain LaneRecording sets}: the writer records into the <em>active</em> one,
 * the reader owns the other, and the two are swapped by the handshake below. Service times are
 * recorded for every dispatch by default; {@code PipelineBuilder.serviceTimeSampling} saves the two
 * clock reads (and the record) on the requests it does not time.
 *
 * <h2>The swap handshake</h2>
 * Generations: {@link #requested} (written by the reader only) and {@link #acked} (written by
 * whoever flips). Invariant: {@code requested} is {@code acked} or {@code acked + 1}, so one request is
 * one flip and the active set is always {@code sets[acked & 1]}; the reader's set is the other.
 * <ol>
 * <li>The reader resets its set, then raises {@code requested} to {@code acked + 1} with a
 *     <b>release</b> store (only when no request is pending).</li>
 * <li>Busy writer, in {@link #onTurn()}: an <b>acquire</b> load of {@code requested}; if it differs
 *     from {@code acked}, the writer points {@code active} at the other set (which the reader reset:
 *     its reset happens-before this load by the release/acquire pair of step 1) and stores
 *     {@code acked} with a <b>release</b>. One load and a not-taken branch when nothing is asked.</li>
 * <li>The reader's <b>acquire</b> load sees the new {@code acked}: every record the writer made into
 *     the old set happens-before it (release/acquire pair of step 2). The old set is now the reader's;
 *     the writer does not touch it again until the next flip, which needs a new request, which the
 *     reader raises only after it has added the set into its totals and reset it.</li>
 * </ol>
 *
 * <h2>Idle writers</h2>
 * A writer that waits for work (parks, selects, waits on a semaphore) calls {@link #enterIdle()}
 * first and {@link #exitIdle()} after, so that a reader need not wait for it. {@link #state} is
 * {@code IDLE}, {@code BUSY} or {@code READING}. {@code enterIdle} serves a pending request, then
 * stores {@code IDLE} with a <b>release</b>: every record before it is visible to whoever acquires the
 * state. While the state is {@code IDLE} a reader may CAS it to {@code READING}, which makes the
 * reader the lane's only user: it flips {@code active}, stores {@code acked}, and stores {@code IDLE}
 * back with a <b>release</b>. {@code exitIdle} CASes {@code IDLE -> BUSY}; its acquire sees the
 * reader's flip. It fails only while a reader holds {@code READING} (a pointer flip and two stores),
 * and spins then (yielding after a while, in case the reader was descheduled in between). One CAS
 * per wake-up, none per record. A lane is created idle: its thread calls {@code exitIdle} before its
 * first record and {@code enterIdle} when it ends, so the lanes of a thread that has not started or
 * has stopped are collected without waiting.
 *
 * <h2>Who owns what, when</h2>
 * <ul>
 * <li>{@code sets[acked & 1]} (the active set) and the counters: the writer while {@code BUSY}; while
 *     {@code IDLE} nobody records, and a reader holding {@code READING} may flip.</li>
 * <li>{@code sets[(acked & 1) ^ 1]}: the reader, from the acquire that saw {@code acked} until its
 *     release of the next {@code requested}; the writer does not touch it in between.</li>
 * <li>{@code active} and {@code acked}: written by the writer while {@code BUSY}, by a reader only
 *     while it holds {@code READING}; the writer reads both plainly, ordered by its own stores or by
 *     its CAS in {@code exitIdle}.</li>
 * <li>{@code requested}, {@code drained}, {@code awaited}: the reader (under the caller's lock).</li>
 * </ul>
 *
 * <h2>Calling contract</h2>
 * The owning thread: {@code exitIdle()} when it starts; records between turns; {@code onTurn()} once
 * per loop turn (or after each dispatch); {@code enterIdle()}/{@code exitIdle()} around every wait
 * for work, and around any long call during which it records nothing (a blocking stage's handler);
 * {@code enterIdle()} when it ends. Recording while idle is a race with the reader.
 *
 * <h2>Reader side</h2>
 * {@link #collect} raises a request on every lane, swaps idle lanes itself, and waits (spin, then
 * park in 50 µs steps) until each busy lane has acked, up to a bound. A lane that has not acked by then
 * (a worker inside a long stage call, a stuck thread) is skipped: its records stay in its active set
 * and come with a later collection, and its request stays pending; later collections do not wait for
 * it again until it has answered. Readers must be serialised by the caller (the runtime's snapshot
 * lock); the reader-only fields ({@link #drained}, {@link #awaited}) rely on that lock for their
 * happens-before from one reader thread to the next. No ring slot is used, nothing is allocated on
 * either side by the handshake.
 */
final class Lane
{
    /** Longest service time, queue wait or end-to-end latency recorded exactly; longer ones are clamped to it. */
    static final long MAX_TRACKED_NANOS = 60_000_000_000L;

    /** Time argument meaning "counted, not timed". */
    static final long UNTIMED = -1;

    /** How long {@link #collect} spins before parking, in polls of the lanes it waits for. */
    private static final int SPINS_BEFORE_PARK = 64;
    /** One park while {@link #collect} waits for acks. */
    private static final long PARK_STEP_NANOS = 50_000L;
    /** {@link #exitIdle} yields after this many failed CASes: the reader holding the lane was descheduled. */
    private static final int SPINS_BEFORE_YIELD = 256;

    private static final int BUSY = 0;
    private static final int IDLE = 1;
    private static final int READING = 2;

    private static final int DISPATCHES = 0;
    private static final int ERRORS = 1;
    private static final int PARKED = 2;
    private static final int REDISPATCHES = 3;
    private static final int KINDS = 4;
    /** Longs of padding at each end of {@link #counters}, so that its lines hold nothing else. */
    private static final int PAD = 8;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle REQUESTED;
    private static final VarHandle ACKED;
    private static final VarHandle STATE;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            REQUESTED = lookup.findVarHandle(Lane.class, "requested", long.class);
            ACKED = lookup.findVarHandle(Lane.class, "acked", long.class);
            STATE = lookup.findVarHandle(Lane.class, "state", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** Per stage: dispatches, errors, parked, re-dispatches; one writer, opaque stores. */
    private final long[] counters;
    private final LaneRecording[] sets = new LaneRecording[2];

    // ---- writer side
    /** The set the writer records into: {@code sets[acked & 1]}. Written by whoever flips (see the class doc). */
    private LaneRecording active;
    /** Writer-private: between {@link #enterIdle} and {@link #exitIdle}. */
    private boolean idle = true;

    // ---- handshake (VarHandle access only, except as the class doc says)
    /** Generation the reader asked for; written by the reader with release stores. */
    @SuppressWarnings("unused")
    private long requested;
    /** Generation of the last flip; release stores by the flipper, acquire loads by the reader. */
    @SuppressWarnings("unused")
    private long acked;
    /** {@code BUSY}, {@code IDLE} or {@code READING}. */
    @SuppressWarnings("unused")
    private int state = IDLE;

    // ---- reader side, guarded by the caller's lock
    /** Generation whose set was last added into the totals. */
    private long drained;
    /** This collection waits for this lane's ack. */
    private boolean awaited;

    /**
     * A blocking-stage thread's lane: stage counters and histograms only.
     *
     * @param stageCount stages in the pipeline
     * @param runsStage  which stages this lane can run; the others get no histograms
     */
    Lane(final int stageCount, final boolean[] runsStage)
    {
        this(stageCount, runsStage, 0);
    }

    /**
     * @param stageCount stages in the pipeline
     * @param runsStage  which stages this lane can run; the others get no histograms
     * @param maxBatch   a worker's ring size (its largest batch): the lane then also has the end-to-end
     *                   and batch-size histograms; 0 for a blocking-stage thread, which has neither
     */
    Lane(final int stageCount, final boolean[] runsStage, final int maxBatch)
    {
        counters = new long[PAD + stageCount * KINDS + PAD];
        sets[0] = new LaneRecording(stageCount, runsStage, maxBatch);
        sets[1] = new LaneRecording(stageCount, runsStage, maxBatch);
        active = sets[0];
    }

    // ---------------------------------------------------------------- writer side, one thread

    /**
     * Counts a dispatch of {@code stage} and records its service time. Writer only.
     *
     * @param nanos service time, or {@link #UNTIMED} when this dispatch was not sampled
     */
    void record(final int stage, final long nanos)
    {
        add(stage, DISPATCHES);
        if (nanos != UNTIMED)
        {
            active.serviceTimes[stage].recordValue(clamp(nanos));
        }
    }

    /** A dispatch that threw: counted as a dispatch and as an error. Writer only. */
    void recordError(final int stage, final long nanos)
    {
        add(stage, ERRORS);
        record(stage, nanos);
    }

    /** Counts a misuse found after the stage returned: its dispatch and time were already recorded. Writer only. */
    void recordMisuse(final int stage)
    {
        add(stage, ERRORS);
    }

    /** This dispatch of {@code stage} suspended its request (returned blocked). Writer only. */
    void countParked(final int stage)
    {
        add(stage, PARKED);
    }

    /**
     * This dispatch of {@code stage} continues a request that suspended in the same stage (its resume
     * targets the stage it parked in): a second dispatch of the same request, so requests are
     * dispatches less re-dispatches. Writer only.
     */
    void countRedispatch(final int stage)
    {
        add(stage, REDISPATCHES);
    }

    /**
     * Records how long a request waited before this dispatch of {@code stage}: its ring residence, or
     * its wait in a blocking stage's queue. Writer only; the lane must run {@code stage}.
     *
     * @param nanos the wait, or {@link #UNTIMED} (then nothing is recorded)
     */
    void recordQueueWait(final int stage, final long nanos)
    {
        if (nanos != UNTIMED)
        {
            active.queueWaits[stage].recordValue(clamp(nanos));
        }
    }

    /**
     * Records a request's end-to-end latency, submit to completion. Writer only, worker lanes only.
     *
     * @param nanos the latency, or {@link #UNTIMED} (then nothing is recorded)
     */
    void recordEndToEnd(final long nanos)
    {
        if (nanos != UNTIMED)
        {
            active.endToEnd.recordValue(clamp(nanos));
        }
    }

    /** Records the size of a non-empty inbox batch (clamped to the ring size). Writer only, worker lanes only. */
    void recordBatch(final int size)
    {
        final Histogram h = active.batchSizes;
        h.recordValue(Math.max(1, Math.min(size, h.getHighestTrackableValue())));
    }

    /**
     * Serves a reader's request to swap, if one is pending: one acquire load when none is. The writer
     * calls it between records, once per loop turn (a worker) or after each dispatch (a blocking
     * thread); never while idle.
     */
    void onTurn()
    {
        assert !idle : "Lane.onTurn() while idle: call exitIdle() first";
        final long request = (long)REQUESTED.getAcquire(this);
        if (request != acked) // acked is written by others only while this writer is idle: see the class doc
        {
            flip(request);
        }
    }

    /**
     * The writer is about to wait for work; a reader may swap the lane itself until {@link #exitIdle}.
     * No records in between. Idempotent.
     */
    void enterIdle()
    {
        if (idle)
        {
            return;
        }
        onTurn();
        idle = true;
        STATE.setRelease(this, IDLE);
    }

    /**
     * The writer has work again; called before its next record. Spins only while a reader is
     * swapping the lane (a few stores). Idempotent.
     */
    void exitIdle()
    {
        if (!idle)
        {
            return;
        }
        int spins = 0;
        while (!STATE.compareAndSet(this, IDLE, BUSY))
        {
            if (++spins < SPINS_BEFORE_YIELD)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
        idle = false;
    }

    // ---------------------------------------------------------------- counters, any thread

    long dispatches(final int stage)
    {
        return get(stage, DISPATCHES);
    }

    long errors(final int stage)
    {
        return get(stage, ERRORS);
    }

    long parked(final int stage)
    {
        return get(stage, PARKED);
    }

    long redispatches(final int stage)
    {
        return get(stage, REDISPATCHES);
    }

    // ---------------------------------------------------------------- reader side, serialised by the caller

    /**
     * Adds what every lane recorded since the last collection into the totals, swapping each lane's
     * sets by the handshake in the class doc, and waits at most {@code maxWaitNanos} for busy lanes to
     * answer. Callers serialise calls (the runtime's snapshot lock) and always pass the same totals
     * for the same lanes. Allocates nothing.
     *
     * @param lanes          the lanes
     * @param serviceTimes   per stage, the service-time totals; entries for stages a lane runs must exist
     * @param queueWaits     per stage, the queue-wait totals; likewise
     * @param endToEnd       the end-to-end total, fed by worker lanes
     * @param batchSizes     per lane (same index as {@code lanes}), the batch-size total, or null for a
     *                       lane without one; the array itself may be null when no lane has one
     * @param maxWaitNanos   how long to wait in all for busy lanes to answer
     * @return lanes not collected this time, whose records come with a later collection
     */
    static int collect(final Lane[] lanes, final Histogram[] serviceTimes, final Histogram[] queueWaits,
        final Histogram endToEnd, final Histogram[] batchSizes, final long maxWaitNanos)
    {
        int waiting = 0;
        int behind = 0;
        for (int i = 0; i < lanes.length; i++)
        {
            final Lane lane = lanes[i];
            final Histogram batches = batchSizes == null ? null : batchSizes[i];
            lane.awaited = false;
            if (lane.pending())
            {
                // Asked by an earlier collection and not answered yet: take it if it has gone idle
                // since, but do not wait for it again.
                if (lane.trySwapIdle())
                {
                    lane.drain(serviceTimes, queueWaits, endToEnd, batches);
                }
                else
                {
                    behind++;
                }
                continue;
            }
            // An answer that came after an earlier collection gave up on it: its set is ready.
            lane.drain(serviceTimes, queueWaits, endToEnd, batches);
            lane.raise();
            if (lane.trySwapIdle())
            {
                lane.drain(serviceTimes, queueWaits, endToEnd, batches);
            }
            else
            {
                lane.awaited = true;
                waiting++;
            }
        }
        if (waiting == 0)
        {
            return behind;
        }
        final long deadline = System.nanoTime() + maxWaitNanos;
        for (int polls = 0; ; polls++)
        {
            for (int i = 0; i < lanes.length && waiting > 0; i++)
            {
                final Lane lane = lanes[i];
                if (lane.awaited && (!lane.pending() || lane.trySwapIdle()))
                {
                    lane.awaited = false;
                    waiting--;
                    lane.drain(serviceTimes, queueWaits, endToEnd, batchSizes == null ? null : batchSizes[i]);
                }
            }
            if (waiting == 0)
            {
                return behind;
            }
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                for (final Lane lane : lanes)
                {
                    lane.awaited = false;
                }
                return behind + waiting;
            }
            if (polls < SPINS_BEFORE_PARK)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(Math.min(left, PARK_STEP_NANOS));
            }
        }
    }

    /** Reader: a request is raised and not answered. */
    private boolean pending()
    {
        return (long)ACKED.getAcquire(this) != requested;
    }

    /** Reader: asks for a swap. Called with no request pending and the reader's set drained and reset. */
    private void raise()
    {
        REQUESTED.setRelease(this, requested + 1);
    }

    /**
     * Reader: swaps the lane itself if its writer is idle.
     *
     * @return {@code true} if the lane is idle and no request is pending any more
     */
    private boolean trySwapIdle()
    {
        if ((int)STATE.getAcquire(this) != IDLE || !STATE.compareAndSet(this, IDLE, READING))
        {
            return false;
        }
        // The lane is ours until IDLE is stored back; the CAS acquired the writer's release of IDLE.
        final long request = requested;
        if (request != acked)
        {
            flip(request);
        }
        STATE.setRelease(this, IDLE);
        return true;
    }

    /** Writer, or a reader holding READING: makes the reader's set active and answers {@code request}. */
    private void flip(final long request)
    {
        active = sets[(int)(request & 1)];
        ACKED.setRelease(this, request);
    }

    /**
     * Reader: if the last answered generation is not drained yet, adds the reader's set into the
     * totals and resets it for the writer's next turn with it.
     */
    private void drain(final Histogram[] serviceTimes, final Histogram[] queueWaits, final Histogram endToEnd,
        final Histogram batchSizes)
    {
        final long answered = (long)ACKED.getAcquire(this);
        if (answered == drained)
        {
            return;
        }
        final LaneRecording mine = sets[(int)((answered & 1) ^ 1)];
        mine.addInto(serviceTimes, queueWaits, endToEnd, batchSizes);
        mine.reset();
        drained = answered;
    }

    // ---------------------------------------------------------------- internals

    private void add(final int stage, final int kind)
    {
        final int i = PAD + stage * KINDS + kind;
        LONGS.setOpaque(counters, i, counters[i] + 1);
    }

    private long get(final int stage, final int kind)
    {
        return (long)LONGS.getOpaque(counters, PAD + stage * KINDS + kind);
    }

    private static long clamp(final long nanos)
    {
        return nanos < 1 ? 1 : Math.min(nanos, MAX_TRACKED_NANOS);
    }
}
