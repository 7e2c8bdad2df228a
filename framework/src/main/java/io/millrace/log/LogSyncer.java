package io.millrace.log;

import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

import java.util.concurrent.locks.LockSupport;

/**
 * The sync thread of a {@link GroupCommit} in {@link ForceMode#SYNC_THREAD} mode: takes the written
 * {@link Ack#DURABLE} appends every worker handed over, forces each of their logs once
 * ({@link PartitionLog#forceWritten()}, which covers everything written before it started), then
 * acknowledges them and hands the entries back to their workers.
 *
 * <p>While one force runs, the workers keep writing and handing over: the next round covers all of
 * it with one force per log, so the batch grows with the load and the force rate stays at what the
 * disk does.
 *
 * <p>Threading: {@link #submit} and {@link #wake} are called by workers (each worker has its own
 * single-producer queue); everything else runs on the sync thread. Parking uses the Dekker pattern
 * on two volatiles ({@code parked}, the queues' tails): either the thread sees the new entry before it
 * parks, or the worker sees it parked and unparks it.
 */
final class LogSyncer implements Runnable
{
    private final GroupCommit owner;
    private final OneToOneConcurrentArrayQueue<PendingAppend>[] inbound;
    private final PendingAppend[] round;
    private final PartitionLog[] logs;
    private final Thread thread;
    private volatile boolean parked;
    private volatile boolean running = true;

    @SuppressWarnings("unchecked")
    LogSyncer(final GroupCommit owner, final GroupCommitOptions options, final String name)
    {
        this.owner = owner;
        final int perWorker = options.maxAppendsPerTurn() + options.maxAwaitingSync();
        this.inbound = new OneToOneConcurrentArrayQueue[options.workers()];
        for (int w = 0; w < inbound.length; w++)
        {
            inbound[w] = new OneToOneConcurrentArrayQueue<>(perWorker);
        }
        this.round = new PendingAppend[perWorker * options.workers()];
        this.logs = new PartitionLog[round.length];
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /** Worker side: hands a written durable append over. Never fails: the queue holds the worker's whole pool. */
    void submit(final int worker, final PendingAppend e)
    {
        if (!inbound[worker].offer(e))
        {
            throw new IllegalStateException("sync queue of worker " + worker + " is full: more entries than its pool");
        }
    }

    /** Worker side: after submitting, makes sure the thread is not parked. */
    void wake()
    {
        if (parked)
        {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public void run()
    {
        final int row = owner.counters.syncRow();
        while (true)
        {
            int n = 0;
            for (final OneToOneConcurrentArrayQueue<PendingAppend> q : inbound)
            {
                PendingAppend e;
                while (n < round.length && (e = q.poll()) != null)
                {
                    round[n++] = e;
                }
            }
            if (n == 0)
            {
                if (!running)
                {
                    return;
                }
                parked = true;
                if (isEmpty() && running)
                {
                    LockSupport.park(this);
                }
                parked = false;
                continue;
            }
            forceAndAcknowledge(n, row);
        }
    }

    private void forceAndAcknowledge(final int n, final int row)
    {
        int distinct = 0;
        for (int i = 0; i < n; i++)
        {
            final PartitionLog log = round[i].log;
            if (log.durableEnd() > round[i].offset)
            {
                continue; // already covered by an earlier force (a roll, a flush, an earlier round)
            }
            boolean seen = false;
            for (int j = 0; j < distinct; j++)
            {
                if (logs[j] == log)
                {
                    seen = true;
                    break;
                }
            }
            if (!seen)
            {
                logs[distinct++] = log;
            }
        }
        Throwable failure = null;
        for (int j = 0; j < distinct; j++)
        {
            try
            {
                logs[j].forceWritten();
                owner.counters.forced(row);
            }
            catch (Throwable t)
            {
                failure = t; // entries of this log stay below durableEnd and are failed below
            }
            logs[j] = null;
        }
        owner.counters.batch(row, n);
        for (int i = 0; i < n; i++)
        {
            final PendingAppend e = round[i];
            round[i] = null;
            if (e.log.durableEnd() <= e.offset)
            {
                e.error = failure != null ? failure : new java.io.IOException("the force did not cover offset " + e.offset);
            }
            GroupCommit.acknowledge(e, owner.counters, row);
            owner.committer(e.worker).returned.offer(e); // cannot fail: sized for the worker's whole pool
        }
    }

    private boolean isEmpty()
    {
        for (final OneToOneConcurrentArrayQueue<PendingAppend> q : inbound)
        {
            if (!q.isEmpty())
            {
                return false;
            }
        }
        return true;
    }

    /** Stops after everything handed over so far is acknowledged. */
    void stop() throws InterruptedException
    {
        running = false;
        LockSupport.unpark(thread);
        thread.join();
    }
}
