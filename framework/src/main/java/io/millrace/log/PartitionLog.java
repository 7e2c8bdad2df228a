package io.millrace.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.nio.channels.ClosedChannelException;
import java.util.regex.Pattern;

/**
 * The append-only log of one topic partition: a directory of {@link Segment}s named by base offset,
 * records framed by {@link RecordCodec}, dense offsets from 0. Appends write at once (the records
 * are then in the page cache: they survive a process crash, not a power loss); {@link #flush()}
 * forces the tail segment, and rolled segments are forced when they are rolled, so after a flush
 * every record appended so far survives a power loss.
 *
 * <p>{@link #open} recovers after a crash ({@link LogRecovery}); {@link #close()} leaves a
 * clean-shutdown marker so that the next open need not scan.
 *
 * <p>Threading: a log is owned by one thread (the partition's worker): no method may be called
 * concurrently, and nothing is locked. Two logs must never be open on the same directory.
 */
public final class PartitionLog implements AutoCloseable
{
    /** File whose presence says the log was closed cleanly; deleted at open. */
    public static final String CLEAN_MARKER = ".clean-shutdown";
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\" + Segment.LOG_SUFFIX);
    /** Records per gathering write: {@code 2 * GATHER} buffers stays under Linux's IOV_MAX of 1024. */
    private static final int GATHER = 256;

    private final Path dir;
    private final LogOptions options;
    private final RecordCodec codec;
    private final List<Segment> segments;
    private final RecoveryReport recovery;
    private final ByteBuffer readHeader = ByteBuffer.allocateDirect(RecordCodec.HEADER_BYTES);
    private final ByteBuffer[] gather = new ByteBuffer[2 * GATHER];
    private final ByteBuffer[] headers = new ByteBuffer[GATHER];
    private final ByteBuffer[] single = new ByteBuffer[1];
    private final long[] rangeOut = new long[3];
    /** Offsets below it have been written to the file (page cache). Written by the owner after each write; read by syncers. */
    private volatile long writtenEnd;
    /** Offsets below it are forced. Raised, never lowered, by the owner (flush, roll) and by {@link #forceWritten()}. */
    private final AtomicLong durableEnd = new AtomicLong();
    /** The tail as last published by the owner, for {@link #forceWritten()} on another thread. */
    private volatile Segment syncTail;
    private long retentionCheckedMillis;
    private IOException failure;
    private volatile boolean closed;

    private PartitionLog(final Path dir, final LogOptions options, final List<Segment> segments,
                         final RecordCodec codec, final RecoveryReport recovery)
    {
        this.dir = dir;
        this.options = options;
        this.codec = codec;
        this.segments = segments;
        this.recovery = recovery;
        this.syncTail = tail();
        this.writtenEnd = tail().nextOffset;
        this.durableEnd.set(tail().nextOffset); // open() forced the tail: what recovery kept is on disk
        final ByteBuffer headerSpace = ByteBuffer.allocateDirect(GATHER * RecordCodec.HEADER_BYTES);
        for (int i = 0; i < GATHER; i++)
        {
            headers[i] = headerSpace.slice(i * RecordCodec.HEADER_BYTES, RecordCodec.HEADER_BYTES);
        }
    }

    /**
     * Opens the log in {@code dir} (created if absent), recovering it if it was not closed cleanly.
     *
     * @throws LogCorruptedException if a segment before the tail is damaged; the message names the
     *                               file, the position and the repair option
     */
    public static PartitionLog open(final Path dir, final LogOptions options) throws IOException
    {
        Objects.requireNonNull(options, "options");
        Files.createDirectories(dir);
        final List<Long> bases = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir))
        {
            for (final Path f : files)
            {
                final String name = f.getFileName().toString();
                if (SEGMENT_NAME.matcher(name).matches())
                {
                    bases.add(Long.parseLong(name.substring(0, 20)));
                }
            }
        }
        bases.sort(null);
        final List<Segment> segments = new ArrayList<>();
        final RecordCodec codec = new RecordCodec(options.maxRecordBytes());
        try
        {
            for (final long base : bases)
            {
                segments.add(Segment.open(dir, base, options));
            }
            if (segments.isEmpty())
            {
                segments.add(Segment.open(dir, 0, options));
            }
            final Path marker = dir.resolve(CLEAN_MARKER);
            final ByteBuffer scratch = ByteBuffer.allocateDirect(
                Math.max(64 * 1024, RecordCodec.HEADER_BYTES + options.maxRecordBytes()));
            final RecoveryReport report = new LogRecovery(segments, codec, scratch, options).run(Files.exists(marker));
            for (int i = 0; i < segments.size() - 1; i++)
            {
                segments.get(i).seal();
            }
            // What recovery kept may have been only in the page cache (a process crash): force it, so
            // that every record this log hands out from now on is durable.
            segments.get(segments.size() - 1).force();
            // From here on a crash must find no marker: delete it durably before any append.
            Files.deleteIfExists(marker);
            syncDirectory(dir);
            return new PartitionLog(dir, options, segments, codec, report);
        }
        catch (IOException | RuntimeException e)
        {
            for (final Segment s : segments)
            {
                try
                {
                    s.close();
                }
                catch (IOException suppressed)
                {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** @return what {@link #open} found and did */
    public RecoveryReport recovery()
    {
        return recovery;
    }

    /** @return the largest payload an append accepts ({@link LogOptions#maxRecordBytes()}) */
    public int maxRecordBytes()
    {
        return options.maxRecordBytes();
    }

    /** @return the partition directory */
    public Path directory()
    {
        return dir;
    }

    /** @return the lowest offset still held (rises with retention) */
    public long startOffset()
    {
        return segments.get(0).baseOffset;
    }

    /** @return the offset the next append gets */
    public long nextOffset()
    {
        return tail().nextOffset;
    }

    /** @return bytes in all segment files */
    public long sizeBytes()
    {
        long total = 0;
        for (final Segment s : segments)
        {
            total += s.size();
        }
        return total;
    }

    /** @return number of segments, the tail included */
    public int segmentCount()
    {
        return segments.size();
    }

    /**
     * Appends one record: its payload is the remaining bytes of {@code payload}, which are consumed.
     *
     * @return the record's offset
     */
    public long append(final ByteBuffer payload) throws IOException
    {
        single[0] = payload;
        return appendBatch(single, 0, 1);
    }

    /**
     * Appends {@code count} records with as few gathering writes as segment rolls allow. Every
     * payload is checked against the maximum record size before anything is written. Payloads are
     * consumed (positions advance to their limits).
     *
     * @return the offset of the first record; the others follow densely
     * @throws NoNextSegmentException if a roll could not create the next segment: the first
     *         {@link NoNextSegmentException#appended()} records were appended (at
     *         {@code nextOffset() - appended()} on), the others were not; the log stays usable
     */
    public long appendBatch(final ByteBuffer[] payloads, final int from, final int count) throws IOException
    {
        checkUsable();
        Objects.checkFromIndexSize(from, count, payloads.length);
        for (int i = from; i < from + count; i++)
        {
            if (payloads[i].remaining() > options.maxRecordBytes())
            {
                throw new IllegalArgumentException("record " + (i - from) + " of the batch has " + payloads[i].remaining()
                    + " bytes, over the maximum record size of " + options.maxRecordBytes()
                    + "; nothing was appended. Split it, or raise LogOptions.maxRecordBytes");
            }
        }
        final long first = nextOffset();
        int pending = 0;
        long pendingBytes = 0;
        try
        {
            for (int i = from; i < from + count; i++)
            {
                final ByteBuffer payload = payloads[i];
                final int recordBytes = RecordCodec.HEADER_BYTES + payload.remaining();
                final Segment active = tail();
                final long used = active.size() + pendingBytes;
                if (used > 0 && (used + recordBytes > options.segmentBytes() || active.index.full()
                    || active.nextOffset - active.baseOffset >= Integer.MAX_VALUE))
                {
                    write(pending, pendingBytes);
                    pending = 0;
                    pendingBytes = 0;
                    roll();
                }
                final Segment s = tail();
                if (pending == GATHER)
                {
                    write(pending, pendingBytes);
                    pending = 0;
                    pendingBytes = 0;
                }
                final ByteBuffer header = headers[pending].clear();
                codec.encodeHeader(header, s.nextOffset, payload);
                header.flip();
                s.index.onAppend(s.nextOffset, s.size() + pendingBytes, recordBytes);
                s.nextOffset++;
                gather[2 * pending] = header;
                gather[2 * pending + 1] = payload;
                pending++;
                pendingBytes += recordBytes;
            }
            write(pending, pendingBytes);
        }
        catch (final NoNextSegmentException e)
        {
            // Nothing was changed by the failed roll: the log stays usable. The batch's records
            // before the roll point were written and keep their offsets; the exception says how many.
            java.util.Arrays.fill(gather, null);
            throw e.withAppended((int) (nextOffset() - first));
        }
        catch (IOException | RuntimeException e)
        {
            failure = e instanceof IOException io ? io : new IOException(e);
            throw e;
        }
        return first;
    }

    private void write(final int pending, final long bytes) throws IOException
    {
        if (pending > 0)
        {
            final Segment s = tail();
            s.write(gather, 0, 2 * pending, bytes);
            s.lastAppendMillis = options.clock().getAsLong();
            java.util.Arrays.fill(gather, 0, 2 * pending, null); // do not keep callers' payloads reachable
            writtenEnd = s.nextOffset; // release: a syncer that reads it forces at least these bytes
        }
    }

    /** Forces the tail segment ({@code fdatasync}): every record appended so far survives a power loss. */
    public void flush() throws IOException
    {
        checkUsable();
        final long target = writtenEnd;
        tail().force();
        raiseDurable(target);
    }

    /**
     * Forces every record written so far, from any thread: the one method a sync thread may call
     * while the owner goes on appending (the owner's writes are not waited for; records written
     * after this call started may or may not be covered). Group commit's sync thread uses it.
     *
     * @return the durable end after the force: every offset below it survives a power loss
     * @throws IOException if the force failed; nothing more is durable than before
     */
    public long forceWritten() throws IOException
    {
        if (closed)
        {
            throw new IllegalStateException("the log in " + dir + " is closed; open it again");
        }
        final long target = writtenEnd;   // read before the tail: records below it are in this tail or sealed ones
        if (durableEnd.get() >= target)
        {
            return durableEnd.get();
        }
        final Segment t = syncTail;
        try
        {
            t.forceChannel();
        }
        catch (ClosedChannelException e)
        {
            // The segment was rolled (sealing forced it and raised durableEnd) and deleted meanwhile.
            if (durableEnd.get() < target)
            {
                throw e;
            }
        }
        raiseDurable(target);
        return durableEnd.get();
    }

    /** @return every offset below it has been forced (survives a power loss); readable from any thread */
    public long durableEnd()
    {
        return durableEnd.get();
    }

    private void raiseDurable(final long end)
    {
        long seen = durableEnd.get();
        while (seen < end && !durableEnd.compareAndSet(seen, end))
        {
            seen = durableEnd.get();
        }
    }

    /**
     * Starts a new segment at {@link #nextOffset()}; the old tail is forced and its index trimmed
     * first, so that only the tail can ever be torn by a crash. Does nothing if the tail is empty.
     *
     * <p>If the next segment cannot be created (typically: the process is out of file descriptors,
     * which any client holding enough connections can cause), nothing is changed, the log stays
     * usable and a {@link NoNextSegmentException} is thrown; a later append or roll tries again. Any
     * other failure leaves the log refusing further use, as a failed write does.
     *
     * @throws NoNextSegmentException if the next segment could not be created; the log is unchanged
     */
    public void roll() throws IOException
    {
        checkUsable();
        final Segment old = tail();
        if (old.size() == 0)
        {
            return;
        }
        try
        {
            // Forced before the next segment exists, so that a crash at any point below leaves
            // every segment but the tail forced, as recovery requires.
            old.force();
        }
        catch (IOException | RuntimeException e)
        {
            failure = e instanceof IOException io ? io : new IOException(e);
            throw e;
        }
        final Segment next = openNext(old.nextOffset);
        try
        {
            old.seal();
        }
        catch (IOException | RuntimeException e)
        {
            failure = e instanceof IOException io ? io : new IOException(e);
            segments.add(next); // closed with the others, so that its channel does not leak
            throw e;
        }
        raiseDurable(old.nextOffset);
        next.nextOffset = old.nextOffset;
        segments.add(next);
        syncTail = next;
    }

    /**
     * Creates the segment starting at {@code base} and makes its name durable; on failure removes
     * whatever it created (nothing of it may outlive a failure: the old tail goes on taking
     * records at and after {@code base}).
     */
    private Segment openNext(final long base) throws IOException
    {
        Segment next = null;
        try
        {
            next = Segment.open(dir, base, options);
            syncDirectory(dir);
            return next;
        }
        catch (final IOException e)
        {
            try
            {
                if (next != null)
                {
                    next.delete();
                }
                else
                {
                    Segment.deleteFiles(dir, base);
                }
            }
            catch (IOException | RuntimeException cleanup)
            {
                // A stray file at base would collide with records the old tail still takes: refuse further use.
                e.addSuppressed(cleanup);
                failure = e;
                throw e;
            }
            // The removal is not synced here: out of descriptors, the directory could not be opened
            // for it anyway. The files were never synced into the directory either, and the next
            // successful roll syncs the directory (every pending name change in it) before the old
            // tail is sealed; until then only a power loss could bring back the empty file, and
            // recovery would then refuse the log (a gap), never drop records silently.
            throw new NoNextSegmentException("cannot create the next segment (" + base + ") in " + dir + ": " + e.getMessage()
                + "; nothing was changed and the log remains usable; if the process is out of file descriptors, raise its"
                + " limit (ulimit -n) or lower the connection limit", e);
        }
    }

    /**
     * Reads the payload of one record, verifying its CRC.
     *
     * @return the payload, or null if {@code offset} is below {@link #startOffset()} (deleted by
     *         retention) or at or beyond {@link #nextOffset()}
     * @throws LogCorruptedException if the record (or one scanned on the way from the index entry)
     *                               is damaged; names the file and byte position
     */
    public byte[] read(final long offset) throws IOException
    {
        checkUsable();
        if (offset < startOffset() || offset >= nextOffset())
        {
            return null;
        }
        return segments.get(segmentOf(offset)).read(offset, codec, readHeader);
    }

    /** @return the index of the last segment whose base is at or below {@code offset} */
    private int segmentOf(final long offset)
    {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi)
        {
            final int mid = (lo + hi + 1) >>> 1;
            if (segments.get(mid).baseOffset <= offset)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * Opens a range of whole framed records starting at {@code from}, for sending as they are
     * (sendfile): at most {@code maxBytes} of records, but at least one whole record even if it alone
     * is larger, and never past the end of the segment holding {@code from}. The bytes are the
     * records exactly as stored (header with length, CRC-32C and offset, then payload; see
     * {@code docs/log.md}) so that the reader verifies each one.
     *
     * @param from     an offset from {@link #startOffset()} to {@link #nextOffset()} inclusive; at
     *                 {@code nextOffset()} the range is empty
     * @param maxBytes the byte budget, at least 1
     * @return the range, with a channel of its own opened on the segment file (close it, or hand it to
     *         a sender that closes it); retention may delete the file meanwhile, the open channel still reads it
     * @throws IllegalArgumentException if {@code from} is outside the log or {@code maxBytes < 1}
     */
    public LogRange openRange(final long from, final long maxBytes) throws IOException
    {
        checkUsable();
        if (maxBytes < 1)
        {
            throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
        }
        if (from < startOffset() || from > nextOffset())
        {
            throw new IllegalArgumentException("offset " + from + " is outside the log [" + startOffset() + ", "
                + nextOffset() + "]; check startOffset() and nextOffset() first");
        }
        if (from == nextOffset())
        {
            return new LogRange(null, 0, 0, from, from);
        }
        final Segment s = segments.get(segmentOf(from));
        s.range(from, maxBytes, codec, readHeader, rangeOut);
        final FileChannel channel = FileChannel.open(s.file, StandardOpenOption.READ);
        return new LogRange(channel, rangeOut[0], rangeOut[1] - rangeOut[0], from, rangeOut[2]);
    }

    /**
     * Runs {@link #enforceRetention()} if it last ran at least {@code intervalMillis} ago on the
     * log's clock; cheap enough to call on every append.
     *
     * @return segments deleted
     */
    public int enforceRetentionEvery(final long intervalMillis) throws IOException
    {
        final long now = options.clock().getAsLong();
        if (now - retentionCheckedMillis < intervalMillis)
        {
            return 0;
        }
        retentionCheckedMillis = now;
        return enforceRetention();
    }

    /**
     * Deletes whole old segments, oldest first, never the tail: while a segment's last append is
     * older than the age limit, or while the segments after it still hold at least the size limit.
     *
     * @return the number of segments deleted
     */
    public int enforceRetention() throws IOException
    {
        checkUsable();
        final long now = options.clock().getAsLong();
        long total = sizeBytes();
        int deleted = 0;
        while (segments.size() > 1)
        {
            final Segment oldest = segments.get(0);
            final boolean tooOld = options.retentionMillis() >= 0 && now - oldest.lastAppendMillis > options.retentionMillis();
            final boolean tooBig = options.retentionBytes() >= 0 && total - oldest.size() >= options.retentionBytes();
            if (!tooOld && !tooBig)
            {
                break;
            }
            total -= oldest.size();
            deleteOldest();
            deleted++;
        }
        return deleted;
    }

    /**
     * Deletes the oldest segments whose every record lies below {@code offset}, never the tail: what
     * compaction does once a snapshot covers the records below {@code offset}. A segment that also
     * holds {@code offset} or later records stays whole; {@link #roll()} first to make the tail
     * deletable too.
     *
     * @param offset records below it are no longer needed; any value (nothing is deleted at or below
     *               {@link #startOffset()})
     * @return the number of segments deleted; {@link #startOffset()} is then the first kept segment's base
     */
    public int deleteSegmentsBelow(final long offset) throws IOException
    {
        checkUsable();
        int deleted = 0;
        while (segments.size() > 1 && segments.get(1).baseOffset <= offset)
        {
            deleteOldest();
            deleted++;
        }
        return deleted;
    }

    /**
     * Deletes the oldest segment and syncs the directory before the next one goes, so that a power
     * loss can only ever undo the deletions of a suffix: the segments left on disk are always
     * contiguous (recovery refuses a gap between segments as damage).
     */
    private void deleteOldest() throws IOException
    {
        final Segment oldest = segments.remove(0);
        oldest.delete();
        syncDirectory(dir);
    }

    /** Forces and closes every segment and leaves the clean-shutdown marker. Idempotent. */
    @Override
    public void close() throws IOException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (failure == null)
        {
            tail().seal();
        }
        for (final Segment s : segments)
        {
            s.close();
        }
        if (failure == null) // after a failed write the files may disagree with the index: let recovery look
        {
            Files.write(dir.resolve(CLEAN_MARKER), new byte[0]);
            syncDirectory(dir);
        }
    }

    private Segment tail()
    {
        return segments.get(segments.size() - 1);
    }

    private void checkUsable()
    {
        if (closed)
        {
            throw new IllegalStateException("the log in " + dir + " is closed; open it again");
        }
        if (failure != null)
        {
            throw new IllegalStateException("the log in " + dir + " failed on an earlier append (" + failure
                + ") and its files may not match its state; close it and open it again to recover", failure);
        }
    }

    /** Makes created, renamed and deleted names in {@code dir} durable (Linux: fsync of the directory). */
    static void syncDirectory(final Path dir) throws IOException
    {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ))
        {
            d.force(true);
        }
    }
}
