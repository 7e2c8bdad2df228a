package io.millrace.demo;

import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.log.Ack;
import io.millrace.log.GroupCommit;
import io.millrace.log.LogDirectory;
import io.millrace.log.LogOptions;
import io.millrace.log.NoNextSegmentException;
import io.millrace.log.PartitionLog;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The durable /kv store: a {@link KvStore} that is the replay of a log, {@code <data dir>/kv/}.
 * A PUT or DELETE is appended to the log through the {@link GroupCommit} with {@link Ack#DURABLE},
 * applied to the map once the force that covers it returns, and only then answered; at start the
 * map is rebuilt from the snapshot plus the log after it.
 *
 * <p><b>One owner.</b> A {@link PartitionLog} has one owner thread, so every /kv request runs on
 * one worker: the kv stages are partitioned with a constant key. That costs the store its
 * parallelism (one worker serves all /kv requests; the others only parse and answer them) and buys
 * one log for the whole store, whose layout does not depend on the worker or partition count, so
 * the server restarts with any {@code --workers}. (A log per key partition would scale, but would
 * tie the files to the partition count.)
 *
 * <p><b>Order.</b> Mutations are queued in append order and applied in that order once
 * acknowledged, by whichever /kv request comes next (its own, or any other), so the map is always
 * the log's acknowledged prefix, even when a client goes away before its answer. A GET sees only
 * applied (durable) mutations. The budget counts the queued PUTs too (each as a new entry), so the
 * store never passes {@code --kv-max-mib}, whatever the order in which they land.
 *
 * <p><b>Compaction.</b> Once the log has grown by more than {@code compactBytes} and more than the
 * store holds since the last compaction, the owner copies the map's records (immutable arrays),
 * rolls the log, and a snapshot thread writes them with the offset they cover ({@link KvSnapshot});
 * when that is durable the owner deletes the log's whole segments below the offset. Restart then
 * reads at most the snapshot plus about one threshold of log.
 *
 * <p>Threading: everything runs on the owner worker, except the snapshot thread's write, which hands
 * its result back through volatile fields that the owner reads at its next /kv request.
 */
final class DurableKv implements AutoCloseable
{
    /** Name of the store's log in the data directory. */
    static final String LOG_NAME = "kv";
    /** Keys at most; the byte budget (each entry charged at least 100 bytes) usually binds first. */
    static final int MAX_ENTRIES = 1_000_000;

    private static final Logger LOG = LoggerFactory.getLogger(DurableKv.class);
    private static final HeaderBlock OCTETS = HeaderBlock.contentType("application/octet-stream");
    private static final byte[] NO_SUCH_KEY = "no such key\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD_KEY = "a key is one path segment of 1 to 256 characters: /kv/{key}\n"
        .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FULL = "the store is full\n".getBytes(StandardCharsets.US_ASCII);

    private final Path dataDir;
    private final PartitionLog log;
    private final KvStore store;
    private final GroupCommit commit;
    private final long compactBytes;
    private StageRef<HttpExchange> afterAppend;

    // Owner only.
    private final ArrayDeque<KvMutation> pending = new ArrayDeque<>();
    private long reservedBytes;
    private int reservedEntries;
    /** The log offset after the last applied mutation: the map is the log below it. */
    private long appliedEnd;
    private Throwable failure;
    private boolean snapshotRunning;
    private long snapshotSeq;
    private long snapshotOffset;
    /** Log bytes left after the last compaction (or at start): growth is measured from here. */
    private long keptBytes;
    private long compactions;

    // Snapshot thread -> owner: the sequence number is written last.
    private final ExecutorService snapshots = Executors.newSingleThreadExecutor(r ->
    {
        final Thread t = new Thread(r, "kv-snapshot");
        t.setDaemon(true);
        return t;
    });
    private volatile Throwable snapshotFailure;
    private volatile long snapshotDoneSeq;

    private DurableKv(final Path dataDir, final PartitionLog log, final KvStore store, final GroupCommit commit,
        final long compactBytes)
    {
        this.dataDir = dataDir;
        this.log = log;
        this.store = store;
        this.commit = commit;
        this.compactBytes = compactBytes;
        this.appliedEnd = log.nextOffset();
    }

    /**
     * Opens the store's log in {@code dir} and rebuilds the store from the snapshot and the log.
     *
     * @param dir          the locked data directory
     * @param options      the log's options (no retention: the store's history is compacted instead)
     * @param maxBytes     the store's byte budget
     * @param compactBytes growth of the log that starts a compaction
     * @param commit       the group commit the store's appends go through
     * @return the store; its log is handed to its owner worker when the pipeline starts
     * @throws IOException if the snapshot or the log is damaged, or they do not fit together (the
     *                     message says what is missing and what to do)
     */
    static DurableKv open(final LogDirectory dir, final LogOptions options, final long maxBytes, final long compactBytes,
        final GroupCommit commit) throws IOException
    {
        final long started = System.nanoTime();
        final PartitionLog log = dir.openLog(LOG_NAME, options);
        final KvStore store = new KvStore(MAX_ENTRIES, maxBytes);
        final KvSnapshot.Loaded snapshot = KvSnapshot.read(dir.path(), options.maxRecordBytes());
        long from = 0;
        if (snapshot != null)
        {
            snapshot.records().forEach(store::apply);
            from = snapshot.offset();
        }
        if (from > log.nextOffset())
        {
            throw new IOException("the /kv snapshot covers the log up to offset " + from + " but the log " + log.directory()
                + " ends at " + log.nextOffset() + ": acknowledged records are missing. Restore the data directory from a backup");
        }
        if (log.startOffset() > from)
        {
            throw new IOException("the /kv log " + log.directory() + " starts at offset " + log.startOffset() + " but "
                + (snapshot == null ? "there is no snapshot (" + dir.path().resolve(KvSnapshot.FILE) + ")"
                : "the snapshot covers only the offsets below " + from) + ": the records in between are missing. Restore"
                + " the data directory from a backup, or, to start with an empty store, stop the server and delete both");
        }
        for (long o = from; o < log.nextOffset(); o++)
        {
            final byte[] record = log.read(o);
            final String why = KvStore.malformed(record);
            if (why != null)
            {
                throw new IOException("the record at offset " + o + " of the /kv log " + log.directory() + " is not a"
                    + " store record (" + why + "); restore the data directory from a backup");
            }
            store.apply(record);
        }
        final long replayed = log.nextOffset() - from;
        log.deleteSegmentsBelow(from); // a crash may have come between a snapshot and its deletions
        if (store.bytes() > maxBytes)
        {
            LOG.warn("the /kv store holds {} bytes, over its budget of {} (--kv-max-mib was lowered?): PUTs get 507 until"
                + " DELETEs make room", store.bytes(), maxBytes);
        }
        LOG.info("/kv store: {} keys, {} bytes, from {} and {} log records, in {} ms", store.size(), store.bytes(),
            snapshot == null ? "no snapshot" : "a snapshot of " + snapshot.records().size() + " entries", replayed,
            (System.nanoTime() - started) / 1_000_000);
        return new DurableKv(dir.path(), log, store, commit, compactBytes);
    }

    /** Sets the stage where a request continues once its mutation is durable (partitioned like {@link #handle}). */
    void afterAppend(final StageRef<HttpExchange> stage)
    {
        this.afterAppend = stage;
    }

    /** {@code GET|HEAD|PUT|DELETE /kv/{key}}, on the store's owner. */
    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        final int length = x.pathRemainderLength();
        if (length == 0 || length > KvStore.MAX_KEY_BYTES || hasSlash(x, length))
        {
            return x.respond(404, HeaderBlock.TEXT_PLAIN, BAD_KEY);
        }
        settle();
        switch (x.method())
        {
            case "GET", "HEAD" ->
            {
                final byte[] r = store.get(x);
                if (r == null)
                {
                    return x.respond(404, HeaderBlock.TEXT_PLAIN, NO_SUCH_KEY);
                }
                final int at = KvStore.valueOffset(r);
                return x.respond(200, OCTETS, r, at, r.length - at);
            }
            case "PUT" ->
            {
                if (failure != null)
                {
                    return failed(x);
                }
                final long charge = KvStore.HEADER_BYTES + length + x.bodyLength() + KvStore.ENTRY_OVERHEAD_BYTES;
                if (store.bytes() + reservedBytes + charge > store.maxBytes() || store.size() + reservedEntries >= store.maxEntries())
                {
                    return x.respond(507, HeaderBlock.TEXT_PLAIN, FULL);
                }
                reservedBytes += charge;
                reservedEntries++;
                return append(x, ctx, new KvMutation(KvStore.record(KvStore.PUT, x), charge));
            }
            default ->
            {
                if (failure != null)
                {
                    return failed(x);
                }
                if (store.get(x) == null)
                {
                    return x.respond(404, HeaderBlock.TEXT_PLAIN, NO_SUCH_KEY); // nothing to log
                }
                return append(x, ctx, new KvMutation(KvStore.record(KvStore.DELETE, x), 0));
            }
        }
    }

    private Outcome append(final HttpExchange x, final StageContext ctx, final KvMutation m)
    {
        pending.addLast(m);
        try
        {
            ConnectionState.of(x).mutation = m;
            return commit.append(ctx, log, ByteBuffer.wrap(m.record), Ack.DURABLE, m, afterAppend);
        }
        catch (final RuntimeException e)
        {
            pending.removeLast(); // never appended: it must not hold up the queue
            unreserve(m);
            throw e;
        }
    }

    /** Where a mutation's request continues once the mutation is acknowledged (on the owner). */
    Outcome durable(final HttpExchange x, final StageContext ctx)
    {
        settle();
        final ConnectionState s = ConnectionState.of(x);
        final KvMutation m = s.mutation;
        s.mutation = null;
        if (m == null || !m.done)
        {
            return x.respondText(500, "internal error: the /kv mutation was not acknowledged\n");
        }
        if (m.error != null)
        {
            return x.respondText(503, "the /kv change could not be made durable (" + m.error.getMessage()
                + "); it was not applied\n");
        }
        if (m.status == 0)
        {
            // Successful acknowledgements come in append order, so every earlier mutation was settled first.
            return x.respondText(500, "internal error: the /kv mutation was acknowledged out of order\n");
        }
        return m.status == 404 ? x.respond(404, HeaderBlock.TEXT_PLAIN, NO_SUCH_KEY) : x.respond(m.status, HeaderBlock.EMPTY);
    }

    /** Applies the acknowledged head of the queue, in order, then looks after compaction. */
    private void settle()
    {
        KvMutation m;
        while ((m = pending.peekFirst()) != null && m.done)
        {
            pending.removeFirst();
            unreserve(m);
            if (m.error instanceof NoNextSegmentException)
            {
                continue; // refused before it reached the log (no new segment, e.g. out of descriptors): map and log still agree
            }
            if (m.error != null)
            {
                if (failure == null)
                {
                    failure = m.error;
                    LOG.error("an append to the /kv log failed; the store refuses changes until the server restarts"
                        + " (the log may hold the record, so the map can no longer be trusted to match it)", m.error);
                }
                continue;
            }
            m.status = store.apply(m.record);
            appliedEnd = m.offset + 1;
        }
        if (failure == null)
        {
            compact();
        }
    }

    private void unreserve(final KvMutation m)
    {
        if (m.isPut())
        {
            reservedBytes -= m.charge;
            reservedEntries--;
        }
    }

    private void compact()
    {
        try
        {
            if (snapshotRunning)
            {
                if (snapshotDoneSeq != snapshotSeq)
                {
                    return;
                }
                snapshotRunning = false;
                final Throwable f = snapshotFailure;
                if (f != null)
                {
                    snapshotFailure = null;
                    keptBytes = log.sizeBytes(); // try again after as much growth again
                    LOG.warn("writing the /kv snapshot failed; the log is kept whole", f);
                    return;
                }
                log.deleteSegmentsBelow(snapshotOffset);
                keptBytes = log.sizeBytes();
                compactions++;
                return;
            }
            if (log.sizeBytes() - keptBytes <= Math.max(compactBytes, store.bytes()))
            {
                return;
            }
            final byte[][] records = store.records();
            final long offset = appliedEnd;
            log.roll(); // the records below the offset are now in sealed segments, deletable once the snapshot is durable
            final long seq = ++snapshotSeq;
            snapshotOffset = offset;
            snapshotRunning = true;
            snapshots.execute(() ->
            {
                try
                {
                    KvSnapshot.write(dataDir, records, offset);
                }
                catch (final Throwable t)
                {
                    snapshotFailure = t;
                }
                snapshotDoneSeq = seq; // last: publishes the failure, if any
            });
        }
        catch (final IOException | RejectedExecutionException e)
        {
            keptBytes = log.sizeBytes();
            LOG.warn("compacting the /kv log failed; it is kept whole and tried again after more growth", e);
        }
    }

    private Outcome failed(final HttpExchange x)
    {
        return x.respondText(503, "the /kv log failed (" + failure.getMessage() + "); restart the server to recover it\n");
    }

    private static boolean hasSlash(final HttpExchange x, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (x.pathRemainderByte(i) == '/')
            {
                return true;
            }
        }
        return false;
    }

    /** @return the store (tests, after the pipeline stopped) */
    KvStore store()
    {
        return store;
    }

    /** @return the store's log (tests, after the pipeline stopped) */
    PartitionLog log()
    {
        return log;
    }

    /** @return compactions finished (snapshot written and segments deleted) */
    long compactions()
    {
        return compactions;
    }

    /** Waits for a snapshot being written (up to 30 s) and stops the snapshot thread. Call after the pipeline stopped. */
    @Override
    public void close() throws InterruptedException
    {
        snapshots.shutdown();
        if (!snapshots.awaitTermination(30, TimeUnit.SECONDS))
        {
            LOG.warn("the /kv snapshot is still being written after 30 s; the next start uses the previous one");
        }
    }
}
