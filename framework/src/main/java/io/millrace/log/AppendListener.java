package io.millrace.log;

/**
 * Told how an append through {@link GroupCommit#append} ended, just before its request is resumed.
 * Usually the request object itself implements it and keeps the offset in a field for its next
 * stage (the resume publishes the request to its home worker, so that stage sees the field).
 *
 * <p>Thread: the worker that owns the log, except for {@link Ack#DURABLE} appends under
 * {@link ForceMode#SYNC_THREAD}, whose listener runs on the sync thread. Either way it runs inside a
 * guard: a listener that throws is counted and the request is still resumed. Keep it to storing
 * the result.
 */
public interface AppendListener
{
    /**
     * The record is stored at {@code offset}, at the requested {@link Ack} level.
     *
     * @param offset the record's offset in its log
     */
    void appended(long offset);

    /**
     * The append failed (the write or the force threw); the record may or may not be in the file,
     * and is not acknowledged. The log refuses further appends after a failed write until it is
     * reopened (see {@link PartitionLog}).
     *
     * @param error why
     */
    void appendFailed(Throwable error);
}
