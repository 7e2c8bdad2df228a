package io.millrace.log;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Group commit for {@link PartitionLog}s owned by a pipeline's workers: every append a worker gets
 * in one loop turn is written with one gathering write per log at the end of the turn (the
 * runtime's end-of-turn hook), and one force covers all of a turn's {@link Ack#DURABLE} appends
 * before their requests go on.
 *
 * <p>Use it from a stage that runs on the worker owning the log, normally a partitioned stage keyed
 * by topic (so that each log has one owner and needs no lock):
 * <pre>{@code
 * GroupCommit commit = new GroupCommit(GroupCommitOptions.defaults(workers));
 * b.handle(append, (req, ctx) -> commit.append(ctx, logs.get(req.topic), req.payload, Ack.DURABLE, req, reply));
 * // req implements AppendListener: appended(offset) keeps the offset; the reply stage answers with it
 * }</pre>
 * {@link #append} parks the request and returns {@link Outcome#blocked()}; the request continues at
 * {@code then} once its record is written ({@link Ack#NONE}) or forced ({@link Ack#DURABLE}), its
 * listener told the offset (or the error) first. The payload's bytes are copied when appended, so
 * the caller may release them as soon as {@code append} returns.
 *
 * <p>Threading: {@link #append} only on the worker that owns the log, from a worker stage (not a
 * blocking one). Per worker there is one committer, owned by that worker; with
 * {@link ForceMode#SYNC_THREAD} one extra thread forces. {@link #stats()} from any thread.
 * {@link #close()} after the pipeline has shut down (so that nothing is pending), before the logs are closed.
 */
public final class GroupCommit implements AutoCloseable
{
    private final GroupCommitOptions options;
    private final WorkerCommitter[] committers;
    private final LogSyncer syncer;
    final CommitCounters counters;
    private volatile boolean closed;

    /**
     * @param options sizes and the force mode; the sync thread (if any) starts at once
     */
    public GroupCommit(final GroupCommitOptions options)
    {
        this.options = Objects.requireNonNull(options, "options");
        this.counters = new CommitCounters(options.workers());
        this.syncer = options.forceMode() == ForceMode.SYNC_THREAD ? new LogSyncer(this, options, "millrace-log-sync") : null;
        this.committers = new WorkerCommitter[options.workers()];
        for (int w = 0; w < committers.length; w++)
        {
            committers[w] = new WorkerCommitter(this, w, options, syncer);
        }
        if (syncer != null)
        {
            syncer.start();
        }
    }

    /**
     * Appends the remaining bytes of {@code payload} to {@code log} as one record at the end of this
     * worker's turn and parks the request until the record is acknowledged at level {@code ack}.
     *
     * @param context  the calling stage's context (the request is suspended through it)
     * @param log      a log owned by the calling worker
     * @param payload  the record; its bytes are copied (or written) before this method returns
     * @param ack      when to acknowledge
     * @param listener told the offset or the error before the request is resumed
     * @param then     where the request continues
     * @return {@link Outcome#blocked()}: return it from the stage
     * @throws IllegalArgumentException if the payload is over the log's maximum record size
     * @throws IllegalStateException    in a blocking stage, from a worker index beyond the options' worker
     *                                  count, or after {@link #close()}
     */
    public Outcome append(final StageContext context, final PartitionLog log, final ByteBuffer payload, final Ack ack,
                          final AppendListener listener, final StageRef<?> then)
    {
        if (closed)
        {
            throw new IllegalStateException("this GroupCommit is closed; close it only after the pipeline has shut down");
        }
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(ack, "ack");
        Objects.requireNonNull(listener, "listener");
        final int worker = context.workerIndex();
        if (worker < 0 || worker >= committers.length)
        {
            throw new IllegalStateException("worker " + worker + " has no committer: GroupCommitOptions.workers is "
                + committers.length + " but the pipeline has more workers; pass the pipeline's worker count");
        }
        return committers[worker].append(context, log, payload, ack, listener, Outcome.next(then));
    }

    /** @return counters summed over the workers and the sync thread */
    public GroupCommitStats stats()
    {
        return counters.snapshot();
    }

    /** @return the options this group commit was made with */
    public GroupCommitOptions options()
    {
        return options;
    }

    WorkerCommitter committer(final int worker)
    {
        return committers[worker];
    }

    /**
     * Stops the sync thread once it has acknowledged everything handed to it. Call it after the
     * pipeline has shut down (no turn is pending then) and before closing the logs. Idempotent.
     */
    @Override
    public void close() throws InterruptedException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (syncer != null)
        {
            syncer.stop();
        }
    }

    /** Tells the listener and resumes the request; user code inside a guard, so nothing escapes. */
    static void acknowledge(final PendingAppend e, final CommitCounters counters, final int row)
    {
        final boolean failed = e.error != null;
        try
        {
            if (failed)
            {
                e.listener.appendFailed(e.error);
            }
            else
            {
                e.listener.appended(e.offset);
            }
        }
        catch (Throwable t)
        {
            counters.listenerThrew(row);
        }
        try
        {
            e.suspension.resume(e.then);
        }
        catch (IllegalStateException withdrawn)
        {
            counters.withdrawn(row); // cancelled while pending: the record is written, nobody waits for it
        }
        counters.acknowledged(row, failed);
    }
}
