package io.millrace.worker;

/**
 * The fields a worker writes on every event and every turn, kept on cache lines of their own: the
 * worker object itself is read by every producer that publishes into its inbox (its ring, thread
 * and I/O), and a line that the owner dirties per event would bounce between cores on each publish.
 * The JVM lays out superclass fields first, so the class hierarchy puts padding on both sides, as
 * the Disruptor's {@code Sequence} does.
 *
 * <p>Threading: owned by the worker thread; never read by another thread.
 */
final class TurnState extends TurnStateFields
{
    @SuppressWarnings("unused")
    private long p10, p11, p12, p13, p14, p15, p16;
}

/** The owner's per-turn fields, between paddings. */
abstract class TurnStateFields extends TurnStatePad
{
    /** Consecutive turns that found no work. */
    long emptyTurns;
    /** Events handled in the current inbox batch. */
    int batchCount;
    /** Whether the event being handled is the last of its batch. */
    boolean endOfBatch;
}

/** Left padding. */
abstract class TurnStatePad
{
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6;
}
