package io.millrace.worker;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The stage counters of one thread: count, errors and a service-time recorder for each stage that
 * can run on that thread. One writer (the owning worker or blocking thread), so the counts are plain
 * increments published with opaque stores; readers use opaque reads. A timed dispatch also records
 * into an HdrHistogram {@code SingleWriterRecorder}, whose writer-reader phaser costs two atomic
 * adds per record (and the dispatch two clock reads): that is what
 * {@code PipelineBuilder.serviceTimeSampling} saves on the requests it does not time.
 */
final class Lane
{
    /** Longest service time recorded exactly; longer ones are clamped to it. */
    static final long MAX_TRACKED_NANOS = 60_000_000_000L;

    /** Service time argument meaning "counted, not timed". */
    static final long UNTIMED = -1;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] counts;
    private final long[] errors;
    private final SingleWriterRecorder[] serviceTimes;

    /**
     * @param stageCount    stages in the pipeline
     * @param runsStage     which stages this lane can run; the others get no recorder
     */
    Lane(final int stageCount, final boolean[] runsStage)
    {
        counts = new long[stageCount];
        errors = new long[stageCount];
        serviceTimes = new SingleWriterRecorder[stageCount];
        for (int i = 0; i < stageCount; i++)
        {
            if (runsStage[i])
            {
                serviceTimes[i] = new SingleWriterRecorder(1, MAX_TRACKED_NANOS, 2);
            }
        }
    }

    /**
     * @param nanos service time, or {@link #UNTIMED} when this dispatch was not sampled
     */
    void record(final int stage, final long nanos)
    {
        LONGS.setOpaque(counts, stage, counts[stage] + 1);
        if (nanos != UNTIMED)
        {
            serviceTimes[stage].recordValue(clamp(nanos));
        }
    }

    void recordError(final int stage, final long nanos)
    {
        LONGS.setOpaque(errors, stage, errors[stage] + 1);
        record(stage, nanos);
    }

    /** Counts a misuse found after the stage returned: its time was already recorded. */
    void recordMisuse(final int stage)
    {
        LONGS.setOpaque(errors, stage, errors[stage] + 1);
    }

    long count(final int stage)
    {
        return (long)LONGS.getOpaque(counts, stage);
    }

    long errors(final int stage)
    {
        return (long)LONGS.getOpaque(errors, stage);
    }

    /**
     * Moves what was recorded since the last call into {@code into}. Reader side only; callers
     * serialise calls (the runtime's snapshot lock).
     */
    void drainServiceTimes(final int stage, final Histogram into)
    {
        final SingleWriterRecorder recorder = serviceTimes[stage];
        if (recorder != null)
        {
            into.add(recorder.getIntervalHistogram());
        }
    }

    private static long clamp(final long nanos)
    {
        return nanos < 1 ? 1 : Math.min(nanos, MAX_TRACKED_NANOS);
    }
}
