package io.millrace.demo;

import io.millrace.log.AppendListener;

/**
 * A PUT or DELETE of the /kv store between its append to the store's log and its application to
 * the map. {@link DurableKv} queues mutations in append order and applies each once its append is
 * acknowledged, in that order, whether or not its request is still waiting (a client that went
 * away does not leave the map behind the log).
 *
 * <p>Threading: made and applied by the store's owner; {@link #appended}/{@link #appendFailed} run
 * on the thread that acknowledges the append (the sync thread or the owner), which writes
 * {@link #offset}/{@link #error} and then the volatile {@link #done}; the owner reads {@code done}
 * first.
 */
final class KvMutation implements AppendListener
{
    final byte[] record;
    /** Bytes reserved against the store's budget until applied (a put), or 0. */
    final long charge;
    long offset = -1;
    Throwable error;
    volatile boolean done;
    /** Owner only: the answer once applied (201, 204, 404), or 0 before. */
    int status;

    KvMutation(final byte[] record, final long charge)
    {
        this.record = record;
        this.charge = charge;
    }

    boolean isPut()
    {
        return record[0] == KvStore.PUT;
    }

    @Override
    public void appended(final long at)
    {
        offset = at;
        done = true;
    }

    @Override
    public void appendFailed(final Throwable why)
    {
        error = why;
        done = true;
    }
}
