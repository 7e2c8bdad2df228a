package io.millrace.log;

import io.millrace.stage.Outcome;
import io.millrace.stage.Suspension;

import java.nio.ByteBuffer;

/**
 * One append between its stage call and its acknowledgement. Preallocated and recycled per worker.
 * Written by the worker until the turn's write; an {@link Ack#DURABLE} one under
 * {@link ForceMode#SYNC_THREAD} is then handed to the sync thread through a queue (which orders
 * the hand-over) and handed back the same way.
 */
final class PendingAppend
{
    final int worker;
    /** A view of the worker's staging buffer (position/limit set per append), or the caller's buffer for a direct write. */
    ByteBuffer payload;
    final ByteBuffer stagingView;
    PartitionLog log;
    int logSlot;
    Ack ack;
    AppendListener listener;
    Suspension suspension;
    Outcome then;
    /** The record's offset once written, -1 before. */
    long offset;
    Throwable error;

    PendingAppend(final int worker, final ByteBuffer stagingView)
    {
        this.worker = worker;
        this.stagingView = stagingView;
        this.offset = -1;
    }

    void clear()
    {
        payload = null;
        log = null;
        ack = null;
        listener = null;
        suspension = null;
        then = null;
        offset = -1;
        error = null;
    }
}
