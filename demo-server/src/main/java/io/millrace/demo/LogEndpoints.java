package io.millrace.demo;

import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.log.Ack;
import io.millrace.log.GroupCommit;
import io.millrace.log.LogCorruptedException;
import io.millrace.log.LogDirectory;
import io.millrace.log.LogRange;
import io.millrace.log.NoNextSegmentException;
import io.millrace.log.PartitionLog;
import io.millrace.log.TopicLimitException;
import io.millrace.log.TopicNames;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import io.millrace.stage.WorkerTimers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code /log/{topic}}: appends ({@code POST}, answered 201 once durable), single-record reads and
 * streamed ranges by sendfile ({@code GET}). The stage is partitioned by topic, so a topic's
 * requests always run on the worker owning its partition, which owns the topic's
 * {@link PartitionLog} (opened there on first use through the {@link LogDirectory}).
 *
 * <p>Threading: each partition's topic table is touched only by the partition's owner worker; each
 * worker's scratch buffer and retention timer only by that worker. The directory and the group
 * commit are thread-safe as documented.
 */
final class LogEndpoints
{
    /** Bytes a streamed read returns when {@code max-bytes} is not given. */
    static final long DEFAULT_RANGE_BYTES = 1 << 20;
    /** Most bytes one streamed read returns; a larger {@code max-bytes} is lowered to it. */
    static final long MAX_RANGE_BYTES = 16 << 20;
    /** How often each worker runs retention on the topics it owns. */
    private static final long RETENTION_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final Logger LOG = LoggerFactory.getLogger(LogEndpoints.class);
    private static final HeaderBlock OCTETS = HeaderBlock.contentType("application/octet-stream");
    private static final byte[] NO_SUCH_TOPIC = "no such topic\n".getBytes(StandardCharsets.US_ASCII);

    private final LogDirectory directory;
    private final GroupCommit commit;
    private final int maxRecordBytes;
    private final HashMap<ByteKey, PartitionLog>[] topics;
    private final ByteKey[] probes;
    private final ByteBuffer[] scratch;
    private final boolean[] retentionScheduled;
    private StageRef<HttpExchange> appended;

    @SuppressWarnings("unchecked")
    LogEndpoints(final LogDirectory directory, final GroupCommit commit, final int maxRecordBytes, final int partitions,
        final int workers)
    {
        this.directory = directory;
        this.commit = commit;
        this.maxRecordBytes = maxRecordBytes;
        this.topics = new HashMap[partitions];
        this.probes = new ByteKey[partitions];
        for (int p = 0; p < partitions; p++)
        {
            topics[p] = new HashMap<>();
            probes[p] = new ByteKey(new byte[TopicNames.MAX_LENGTH], 0, 0);
        }
        this.scratch = new ByteBuffer[workers];
        this.retentionScheduled = new boolean[workers];
    }

    /** Sets the stage where an append's request continues once durable. */
    void appended(final StageRef<HttpExchange> stage)
    {
        this.appended = stage;
    }

    /** The partition key: a hash of the topic, the path segment after {@code /log/}. */
    static int topicHash(final HttpExchange x)
    {
        final int end = topicEnd(x);
        int h = 1;
        for (int i = 0; i < end; i++)
        {
            h = 31 * h + x.pathRemainderByte(i);
        }
        return h;
    }

    private static int topicEnd(final HttpExchange x)
    {
        final int n = x.pathRemainderLength();
        for (int i = 0; i < n; i++)
        {
            if (x.pathRemainderByte(i) == '/')
            {
                return i;
            }
        }
        return n;
    }

    /** {@code POST /log/{topic}}, {@code GET /log/{topic}/{offset}}, {@code GET /log/{topic}?from=N&max-bytes=M}. */
    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        final int topicEnd = topicEnd(x);
        final boolean post = "POST".equals(x.method());
        final PartitionLog log;
        try
        {
            log = topic(x, ctx, topicEnd, post);
        }
        catch (final IllegalArgumentException badName)
        {
            return x.respondText(400, badName.getMessage() + "\n");
        }
        catch (final TopicLimitException full)
        {
            return x.respondText(507, full.getMessage() + "\n");
        }
        catch (final IOException unrecoverable)
        {
            return x.respondText(500, "the topic's log cannot be opened: " + unrecoverable.getMessage() + "\n");
        }
        if (log == null)
        {
            return x.respond(404, HeaderBlock.TEXT_PLAIN, NO_SUCH_TOPIC);
        }
        final boolean hasOffset = topicEnd < x.pathRemainderLength();
        if (post)
        {
            return hasOffset ? x.respondText(400, "append with POST /log/{topic}, without an offset\n") : append(x, ctx, log);
        }
        return hasOffset ? read(x, log, topicEnd + 1) : stream(x, log);
    }

    /** Finds the topic's log in the partition's table, or asks the directory (opening it on this worker). */
    private PartitionLog topic(final HttpExchange x, final StageContext ctx, final int length, final boolean create)
        throws IOException
    {
        if (length > TopicNames.MAX_LENGTH)
        {
            TopicNames.validate(x.pathRemainder().substring(0, length)); // throws with the rule
        }
        final int partition = ctx.partition();
        final ByteKey probe = probes[partition];
        for (int i = 0; i < length; i++)
        {
            probe.bytes[i] = x.pathRemainderByte(i);
        }
        probe.length = length;
        probe.rehash();
        PartitionLog log = topics[partition].get(probe);
        if (log != null)
        {
            return log;
        }
        final String name = new String(probe.bytes, 0, length, StandardCharsets.ISO_8859_1);
        log = create ? directory.topic(name) : directory.existingTopic(name);
        if (log != null)
        {
            topics[partition].put(probe.copy(), log);
            scheduleRetention(ctx);
        }
        return log;
    }

    private Outcome append(final HttpExchange x, final StageContext ctx, final PartitionLog log)
    {
        final long length = x.bodyLength();
        if (length > maxRecordBytes)
        {
            return x.respondText(413, "a record is at most " + maxRecordBytes + " bytes (--log-max-record-bytes); this"
                + " one has " + length + "\n");
        }
        final ConnectionState state = ConnectionState.of(x);
        state.reset();
        // The group commit copies the payload (or writes it) before append returns: a view of the body will do.
        return commit.append(ctx, log, payload(x, ctx.workerIndex(), (int)length), Ack.DURABLE, state, appended);
    }

    /** The body as one buffer: a view of its only chunk, or a copy into this worker's scratch buffer. */
    private ByteBuffer payload(final HttpExchange x, final int worker, final int length)
    {
        final BufferChain body = x.body();
        final BufferDescriptor first = body == null ? null : body.first();
        if (first != null && first.next() == null)
        {
            return first.readableBuffer();
        }
        ByteBuffer b = scratch[worker];
        if (b == null)
        {
            b = ByteBuffer.allocateDirect(maxRecordBytes);
            scratch[worker] = b;
        }
        b.clear();
        for (BufferDescriptor d = first; d != null; d = d.next())
        {
            b.put(d.readableBuffer());
        }
        return b.flip().limit(length);
    }

    /** Where an append's request continues: 201 with the offset, once the record is durable. */
    Outcome appended(final HttpExchange x, final StageContext ctx)
    {
        final ConnectionState s = ConnectionState.of(x);
        if (s.error instanceof NoNextSegmentException)
        {
            // Refused before it reached the log; the log stays usable, so a retry may succeed.
            return x.respondText(503, "the record was not appended (" + s.error.getMessage() + ")\n");
        }
        if (s.error != null || s.offset < 0)
        {
            return x.respondText(500, "the record could not be made durable ("
                + (s.error == null ? "no offset" : s.error.getMessage()) + ")\n");
        }
        x.header("Log-Offset", s.text(s.offset));
        return x.respond(201, HeaderBlock.TEXT_PLAIN, s.digits, 0, s.digits(s.offset));
    }

    /** {@code GET /log/{topic}/{offset}}: one record's payload, its CRC checked. */
    private Outcome read(final HttpExchange x, final PartitionLog log, final int from)
    {
        final long offset = digits(x, from, x.pathRemainderLength());
        if (offset < 0)
        {
            return x.respondText(400, "the offset in /log/{topic}/{offset} is a decimal number\n");
        }
        final byte[] payload;
        try
        {
            payload = log.read(offset);
        }
        catch (final IOException damaged)
        {
            return x.respondText(500, damaged.getMessage() + "\n");
        }
        if (payload == null)
        {
            return x.respondText(404, "no record at offset " + offset + ": the log holds offsets " + log.startOffset()
                + " to " + (log.nextOffset() - 1) + "\n");
        }
        return x.respond(200, OCTETS, payload);
    }

    /** {@code GET /log/{topic}?from=N&max-bytes=M}: framed records by sendfile, and where to continue. */
    private Outcome stream(final HttpExchange x, final PartitionLog log)
    {
        long from = log.startOffset();
        long maxBytes = DEFAULT_RANGE_BYTES;
        final String query = x.query();
        if (query != null)
        {
            for (final String pair : query.split("&"))
            {
                final int eq = pair.indexOf('=');
                final String name = eq < 0 ? pair : pair.substring(0, eq);
                final long value = eq < 0 ? -1 : parse(pair.substring(eq + 1));
                if (name.equals("from") && value >= 0)
                {
                    from = value;
                }
                else if (name.equals("max-bytes") && value >= 1)
                {
                    maxBytes = Math.min(value, MAX_RANGE_BYTES);
                }
                else if (name.equals("from") || name.equals("max-bytes"))
                {
                    return x.respondText(400, name + " must be a decimal number" + (name.equals("from") ? "" : " of at least 1")
                        + ", got '" + pair + "'\n");
                }
            }
        }
        if (from < log.startOffset() || from > log.nextOffset())
        {
            x.header("Log-Start-Offset", Long.toString(log.startOffset()));
            x.header("Log-End-Offset", Long.toString(log.nextOffset()));
            return x.respondText(416, "offset " + from + " is outside the log: it holds offsets " + log.startOffset() + " to "
                + (log.nextOffset() - 1) + (from < log.startOffset() ? " (older ones were deleted by retention)" : "") + "\n");
        }
        final LogRange range;
        try
        {
            range = log.openRange(from, maxBytes);
        }
        catch (final IOException damaged)
        {
            return x.respondText(500, damaged.getMessage() + "\n");
        }
        x.header("Log-Next-Offset", ConnectionState.of(x).text(range.nextOffset()));
        if (range.channel() == null)
        {
            return x.respond(200, OCTETS);
        }
        return x.respondFile(200, OCTETS, range.channel(), range.position(), range.length()); // the server closes the channel
    }

    /** @return the decimal number in the path remainder's bytes [from, to), or -1 if it is not one (or over 18 digits) */
    private static long digits(final HttpExchange x, final int from, final int to)
    {
        if (to <= from || to - from > 18)
        {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++)
        {
            final byte b = x.pathRemainderByte(i);
            if (b < '0' || b > '9')
            {
                return -1;
            }
            v = v * 10 + (b - '0');
        }
        return v;
    }

    private static long parse(final String text)
    {
        if (text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9'))
        {
            return -1;
        }
        return Long.parseLong(text);
    }

    /**
     * Once per worker, on its first topic: a timer that runs retention on the topics this worker
     * owns every second ({@link LogDirectory#enforceRetention()}, which skips topics checked less
     * than its interval ago), so that idle topics shrink too.
     */
    private void scheduleRetention(final StageContext ctx)
    {
        final int worker = ctx.workerIndex();
        if (retentionScheduled[worker])
        {
            return;
        }
        retentionScheduled[worker] = true;
        final WorkerTimers timers = ctx.timers();
        timers.scheduleAfter(RETENTION_TICK_NANOS, new WorkerTimers.Callback()
        {
            @Override
            public void onTimer(final long timerId, final long nowNanos)
            {
                try
                {
                    directory.enforceRetention();
                }
                catch (final IOException | RuntimeException e)
                {
                    LOG.warn("retention on worker {} failed; it runs again in a second", worker, e);
                }
                timers.schedule(nowNanos + RETENTION_TICK_NANOS, this);
            }
        });
    }
}
