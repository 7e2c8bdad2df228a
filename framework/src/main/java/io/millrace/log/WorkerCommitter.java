package io.millrace.log;

import io.millrace.stage.EndOfTurnHook;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.worker.Fatal;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

import java.nio.ByteBuffer;

/**
 * One worker's share of a {@link GroupCommit}: gathers the appends of the worker's loop turn and, at
 * the end of the turn, writes each log's records with one gathering write and acknowledges them
 * (after a force on this worker, or through the sync thread).
 *
 * <p>Threading: owned by one worker; only {@link #returned} is touched by the sync thread (it hands
 * acknowledged {@link PendingAppend}s back through it).
 *
 * <p>Payloads are copied into a staging buffer when appended, because a request's buffers are not
 * guaranteed to outlive its suspension (a cancelled request's body may be released and reused
 * before the turn ends). The copy is what lets the write at the end of the turn be safe; records too
 * large for the staging buffer are written at once from the caller's buffer instead.
 */
final class WorkerCommitter implements EndOfTurnHook
{
    private final GroupCommit owner;
    private final int worker;
    private final LogSyncer syncer;
    private final ByteBuffer staging;
    private final PendingAppend[] turn;
    private int count;
    private final PendingAppend[] free;
    private int freeCount;
    /** Entries the sync thread acknowledged and hands back. */
    final OneToOneConcurrentArrayQueue<PendingAppend> returned;

    // The distinct logs of this turn, and per log a list of its entries (indexes into turn, in order).
    private final PartitionLog[] logs;
    private final boolean[] logDurable;
    private final int[] logHead;
    private final int[] logTail;
    private int logCount;
    private final int[] next;
    private final ByteBuffer[] batch;

    WorkerCommitter(final GroupCommit owner, final int worker, final GroupCommitOptions options, final LogSyncer syncer)
    {
        this.owner = owner;
        this.worker = worker;
        this.syncer = syncer;
        this.staging = ByteBuffer.allocateDirect(options.stagingBytes());
        final int perTurn = options.maxAppendsPerTurn();
        this.turn = new PendingAppend[perTurn];
        this.next = new int[perTurn];
        this.batch = new ByteBuffer[perTurn];
        final int pool = syncer == null ? perTurn : perTurn + options.maxAwaitingSync();
        this.free = new PendingAppend[pool];
        for (int i = 0; i < pool; i++)
        {
            free[i] = new PendingAppend(worker, staging.duplicate());
        }
        this.freeCount = pool;
        this.returned = syncer == null ? null : new OneToOneConcurrentArrayQueue<>(pool);
        this.logs = new PartitionLog[options.maxLogsPerTurn()];
        this.logDurable = new boolean[logs.length];
        this.logHead = new int[logs.length];
        this.logTail = new int[logs.length];
    }

    Outcome append(final StageContext context, final PartitionLog log, final ByteBuffer payload, final Ack ack,
                   final AppendListener listener, final Outcome then)
    {
        final int length = payload.remaining();
        if (length > log.maxRecordBytes())
        {
            throw new IllegalArgumentException("a record of " + length + " bytes is over the log's maximum of "
                + log.maxRecordBytes() + " (LogOptions.maxRecordBytes); refuse it before appending");
        }
        final io.millrace.stage.Suspension suspension = context.suspend(); // first: it refuses misuse before any side effect
        final boolean direct = length > staging.capacity();
        if (direct)
        {
            commit(); // keep the log's order: what this turn gathered goes first
        }
        if (count == turn.length || (!direct && staging.remaining() < length) || slotOf(log) < 0 || !takeFree())
        {
            commit(); // this turn's batch is full: write it now and start another
            if (!takeFree())
            {
                awaitReturned();
            }
        }
        final PendingAppend e = free[--freeCount];
        free[freeCount] = null;
        e.log = log;
        e.logSlot = slotOf(log);
        e.ack = ack;
        e.listener = listener;
        e.then = then;
        if (direct)
        {
            e.payload = null;
            try
            {
                e.offset = log.append(payload); // the caller's buffer is valid only during this call
            }
            catch (Throwable t)
            {
                Fatal.rethrowIfFatal(t); // an OutOfMemoryError fails the pipeline, not just these appends
                e.error = t;
            }
        }
        else
        {
            final int at = staging.position();
            staging.put(payload);
            e.payload = e.stagingView.limit(at + length).position(at);
        }
        e.suspension = suspension;
        link(e);
        context.atEndOfTurn(this);
        return Outcome.blocked();
    }

    @Override
    public void onEndOfTurn()
    {
        commit();
    }

    /** Writes, forces (WORKER mode) and acknowledges or hands over everything gathered so far. */
    void commit()
    {
        if (count == 0)
        {
            return;
        }
        for (int s = 0; s < logCount; s++)
        {
            writeAll(s);
        }
        staging.clear();
        owner.counters.turnCommitted(worker, count);
        if (syncer == null)
        {
            owner.counters.batch(worker, count);
        }
        for (int i = 0; i < count; i++)
        {
            final PendingAppend e = turn[i];
            turn[i] = null;
            if (e.error == null && e.ack == Ack.DURABLE && syncer != null)
            {
                syncer.submit(worker, e);
            }
            else
            {
                GroupCommit.acknowledge(e, owner.counters, worker);
                recycle(e);
            }
        }
        for (int s = 0; s < logCount; s++)
        {
            logs[s] = null;
            logDurable[s] = false;
        }
        count = 0;
        logCount = 0;
        if (syncer != null)
        {
            syncer.wake();
        }
    }

    private void writeAll(final int slot)
    {
        final PartitionLog log = logs[slot];
        int n = 0;
        for (int i = logHead[slot]; i >= 0; i = next[i])
        {
            final PendingAppend e = turn[i];
            if (e.offset < 0 && e.error == null)
            {
                batch[n++] = e.payload;
            }
        }
        Throwable failed = null;
        if (n > 0)
        {
            try
            {
                assignOffsets(slot, log.appendBatch(batch, 0, n), n, null);
            }
            catch (final NoNextSegmentException refused)
            {
                // A prefix of the batch is in the log and keeps its offsets (acknowledged as usual once
                // forced); the rest was refused without touching the log, which stays usable.
                assignOffsets(slot, log.nextOffset() - refused.appended(), refused.appended(), refused);
            }
            catch (Throwable t)
            {
                Fatal.rethrowIfFatal(t); // an OutOfMemoryError fails the pipeline, not just these appends
                failed = t;
            }
            java.util.Arrays.fill(batch, 0, n, null);
        }
        if (failed == null && logDurable[slot] && syncer == null)
        {
            try
            {
                log.flush();
                owner.counters.forced(worker);
            }
            catch (Throwable t)
            {
                Fatal.rethrowIfFatal(t); // an OutOfMemoryError fails the pipeline, not just these appends
                failed = t;
            }
        }
        if (failed != null)
        {
            for (int i = logHead[slot]; i >= 0; i = next[i])
            {
                final PendingAppend e = turn[i];
                if (e.error == null && (e.offset < 0 || e.ack == Ack.DURABLE))
                {
                    e.error = failed;
                }
            }
        }
    }

    /**
     * Gives the first {@code appended} waiting appends of the slot their offsets from {@code first}
     * on, and the rest {@code refused} as their error (none when the whole batch was appended).
     */
    private void assignOffsets(final int slot, final long first, final int appended, final Throwable refused)
    {
        long offset = first;
        int k = 0;
        for (int i = logHead[slot]; i >= 0; i = next[i])
        {
            final PendingAppend e = turn[i];
            if (e.offset < 0 && e.error == null)
            {
                if (k++ < appended)
                {
                    e.offset = offset++;
                }
                else
                {
                    e.error = refused;
                }
            }
        }
    }

    /** @return the slot of {@code log} in this turn (added if new), or -1 when the turn has no room for another log */
    private int slotOf(final PartitionLog log)
    {
        for (int s = 0; s < logCount; s++)
        {
            if (logs[s] == log)
            {
                return s;
            }
        }
        if (logCount == logs.length)
        {
            return -1;
        }
        logs[logCount] = log;
        logHead[logCount] = -1;
        logTail[logCount] = -1;
        return logCount++;
    }

    private void link(final PendingAppend e)
    {
        final int i = count++;
        turn[i] = e;
        next[i] = -1;
        final int s = e.logSlot;
        if (logHead[s] < 0)
        {
            logHead[s] = i;
        }
        else
        {
            next[logTail[s]] = i;
        }
        logTail[s] = i;
        if (e.ack == Ack.DURABLE)
        {
            logDurable[s] = true;
        }
    }

    private boolean takeFree()
    {
        if (freeCount == 0 && returned != null)
        {
            PendingAppend e;
            while ((e = returned.poll()) != null)
            {
                e.clear();
                free[freeCount++] = e;
            }
        }
        return freeCount > 0;
    }

    /** Every entry is with the sync thread: wait for it to hand some back (bounded by one force). */
    private void awaitReturned()
    {
        owner.counters.waitedForSync(worker);
        syncer.wake();
        while (!takeFree())
        {
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(10_000);
        }
    }

    private void recycle(final PendingAppend e)
    {
        e.clear();
        free[freeCount++] = e;
    }
}
