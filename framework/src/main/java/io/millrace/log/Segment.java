package io.millrace.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One segment of a partition: {@code <base offset, 20 digits>.log} holding framed records
 * ({@link RecordCodec}) whose offsets run densely from the base offset, and its
 * {@code <base offset>.index} ({@link OffsetIndex}). Appends go to the end only.
 *
 * <p>Threading: owned by the thread that owns its {@link PartitionLog}; no field is safe to touch
 * from another thread.
 */
final class Segment
{
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";

    final long baseOffset;
    final Path file;
    private final FileChannel channel;
    final OffsetIndex index;
    private long size;
    /** Offset the next appended record gets; for a segment that is not the tail, the next segment's base. */
    long nextOffset;
    /** Wall-clock time of the last append (file modification time for a segment found at open). */
    long lastAppendMillis;

    // Where the last scan stopped: its status, the byte position and the offset expected there.
    RecordStatus scanStatus;
    long scanEnd;
    long scanNextOffset;
    long scanBytes;
    /** Start of the last whole record the scan passed, or -1 if it passed none. */
    long scanLastStart;

    private Segment(final Path dir, final long baseOffset, final LogOptions options) throws IOException
    {
        this.baseOffset = baseOffset;
        this.file = dir.resolve(name(baseOffset) + LOG_SUFFIX);
        this.channel = options.channels().open(file);
        try
        {
            this.size = channel.size();
            this.nextOffset = baseOffset;
            this.index = new OffsetIndex(dir.resolve(name(baseOffset) + INDEX_SUFFIX), baseOffset,
                options.indexIntervalBytes(), options.maxIndexBytes());
            // A new file's age starts now; an old one's at its last write (appends happened before this process).
            this.lastAppendMillis = size == 0 ? options.clock().getAsLong() : Files.getLastModifiedTime(file).toMillis();
        }
        catch (IOException | RuntimeException e)
        {
            // Out of descriptors, say: do not leak the channel on top of it.
            try
            {
                channel.close();
            }
            catch (final IOException suppressed)
            {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Deletes the files of the segment at {@code baseOffset} in {@code dir}, if they exist (a segment never opened). */
    static void deleteFiles(final Path dir, final long baseOffset) throws IOException
    {
        Files.deleteIfExists(dir.resolve(name(baseOffset) + LOG_SUFFIX));
        Files.deleteIfExists(dir.resolve(name(baseOffset) + INDEX_SUFFIX));
    }

    /** Opens (creating if absent) the segment of {@code baseOffset} in {@code dir}; its index is not yet loaded. */
    static Segment open(final Path dir, final long baseOffset, final LogOptions options) throws IOException
    {
        return new Segment(dir, baseOffset, options);
    }

    /** @return the 20-digit zero-padded file name stem of a base offset (sorts as the offsets do) */
    static String name(final long baseOffset)
    {
        return String.format("%020d", baseOffset);
    }

    long size()
    {
        return size;
    }

    /**
     * Appends {@code bytes} bytes from {@code srcs[from, from + count)} with gathering writes at the
     * end of the file. The caller has already told the index about the records.
     */
    void write(final ByteBuffer[] srcs, final int from, final int count, final long bytes) throws IOException
    {
        channel.position(size);
        long written = 0;
        int first = from;
        final int end = from + count;
        while (written < bytes)
        {
            written += channel.write(srcs, first, end - first);
            while (first < end && !srcs[first].hasRemaining())
            {
                first++;
            }
        }
        size += bytes;
    }

    /** {@code fdatasync}: the records written so far survive a power loss. */
    void force() throws IOException
    {
        channel.force(false);
    }

    /**
     * Reads records from {@code position} (which holds offset {@code offset}) to the end of the file,
     * checking each one's length, CRC and offset, until the end or the first record that is not
     * {@link RecordStatus#OK}; sets {@link #scanStatus}, {@link #scanEnd}, {@link #scanNextOffset}.
     *
     * @param buffer    scratch, at least {@code 16 + maxRecordBytes} long
     * @param indexThem tell the index about every whole record (a rebuild)
     */
    void scan(final RecordCodec codec, final ByteBuffer buffer, final long position, final long offset,
              final boolean indexThem) throws IOException
    {
        final long fileSize = channel.size();
        long at = position;
        long expected = offset;
        long bufferStart = fill(buffer, at, fileSize);
        RecordStatus status = RecordStatus.OK;
        scanLastStart = -1;
        while (at < fileSize)
        {
            final int rel = (int) (at - bufferStart);
            status = codec.check(buffer, rel, expected);
            if (status == RecordStatus.TORN && bufferStart + buffer.limit() < fileSize && rel > 0)
            {
                bufferStart = fill(buffer, at, fileSize); // the record runs past the buffer: move it to the front
                continue;
            }
            if (status != RecordStatus.OK)
            {
                break;
            }
            final int recordBytes = RecordCodec.HEADER_BYTES + RecordCodec.length(buffer, rel);
            if (indexThem)
            {
                index.onAppend(expected, at, recordBytes);
            }
            scanLastStart = at;
            at += recordBytes;
            expected++;
        }
        scanStatus = at == fileSize ? RecordStatus.OK : status;
        scanEnd = at;
        scanNextOffset = expected;
        scanBytes = at - position;
    }

    private long fill(final ByteBuffer buffer, final long from, final long fileSize) throws IOException
    {
        buffer.clear();
        long at = from;
        while (buffer.hasRemaining() && at < fileSize)
        {
            final int n = channel.read(buffer, at);
            if (n < 0)
            {
                break;
            }
            at += n;
        }
        buffer.flip();
        return from;
    }

    /** Cuts the file at {@code position} (a record boundary), drops index entries past it, and syncs. */
    void truncate(final long position) throws IOException
    {
        channel.truncate(position);
        channel.force(true);
        size = position;
        index.truncateTo(position);
    }

    /**
     * Reads the payload of {@code offset}, which must lie in this segment, verifying its CRC.
     *
     * @param header scratch of at least 16 bytes
     * @throws LogCorruptedException naming the file and position of a damaged record on the way
     */
    byte[] read(final long offset, final RecordCodec codec, final ByteBuffer header) throws IOException
    {
        final int entry = index.floor(offset);
        long at = entry < 0 ? 0 : index.position(entry);
        long expected = entry < 0 ? baseOffset : baseOffset + index.relative(entry);
        while (true)
        {
            header.clear().limit(RecordCodec.HEADER_BYTES);
            readFully(header, at);
            final int length = RecordCodec.length(header, 0);
            final long found = RecordCodec.offset(header, 0);
            if (length < 0 || length > codec.maxRecordBytes() || at + RecordCodec.HEADER_BYTES + length > size)
            {
                throw corrupt(at, "length field " + Integer.toUnsignedString(length) + " is out of bounds");
            }
            if (found != expected)
            {
                throw corrupt(at, "the record carries offset " + found + " where offset " + expected + " belongs");
            }
            if (found == offset)
            {
                final ByteBuffer payload = ByteBuffer.allocate(length);
                readFully(payload, at + RecordCodec.HEADER_BYTES);
                payload.flip();
                if (codec.crc(length, found, payload) != header.getInt(RecordCodec.CRC_AT))
                {
                    throw corrupt(at, "CRC32C mismatch in the record of offset " + offset);
                }
                return payload.array();
            }
            at += RecordCodec.HEADER_BYTES + length;
            expected++;
        }
    }

    /**
     * Finds the byte range of whole records from {@code from} (in this segment) that fits in
     * {@code maxBytes}, at least one record even if it alone is larger, up to the end of the segment.
     * Record headers on the way are checked for length and offset (not CRC: the range is streamed
     * with its CRCs for the reader to verify). Uses the index to skip to the last entry within the
     * budget, so it reads at most about two index intervals of headers.
     *
     * @param header scratch of at least 16 bytes
     * @param out    receives {start position, end position, offset after the range}
     */
    void range(final long from, final long maxBytes, final RecordCodec codec, final ByteBuffer header, final long[] out)
        throws IOException
    {
        final long start = locate(from, codec, header);
        long at = start;
        long expected = from;
        final int jump = index.floorByPosition(start + maxBytes);
        if (jump >= 0 && index.position(jump) > start)
        {
            at = index.position(jump); // an entry is a record boundary inside the budget
            expected = baseOffset + index.relative(jump);
        }
        while (at < size)
        {
            final int length = checkedHeader(at, expected, codec, header);
            final long end = at + RecordCodec.HEADER_BYTES + length;
            if (end - start > maxBytes && at > start)
            {
                break;
            }
            at = end;
            expected++;
            if (at - start >= maxBytes)
            {
                break;
            }
        }
        out[0] = start;
        out[1] = at;
        out[2] = expected;
    }

    /** @return the byte position of the record of {@code offset}, which lies in this segment */
    private long locate(final long offset, final RecordCodec codec, final ByteBuffer header) throws IOException
    {
        final int entry = index.floor(offset);
        long at = entry < 0 ? 0 : index.position(entry);
        long expected = entry < 0 ? baseOffset : baseOffset + index.relative(entry);
        while (expected < offset)
        {
            at += RecordCodec.HEADER_BYTES + checkedHeader(at, expected, codec, header);
            expected++;
        }
        return at;
    }

    /** Reads the header at {@code at}, checks its length and offset, and returns the payload length. */
    private int checkedHeader(final long at, final long expected, final RecordCodec codec, final ByteBuffer header)
        throws IOException
    {
        header.clear().limit(RecordCodec.HEADER_BYTES);
        readFully(header, at);
        final int length = RecordCodec.length(header, 0);
        final long found = RecordCodec.offset(header, 0);
        if (length < 0 || length > codec.maxRecordBytes() || at + RecordCodec.HEADER_BYTES + length > size)
        {
            throw corrupt(at, "length field " + Integer.toUnsignedString(length) + " is out of bounds");
        }
        if (found != expected)
        {
            throw corrupt(at, "the record carries offset " + found + " where offset " + expected + " belongs");
        }
        return length;
    }

    /** Forces the file from any thread; see {@link PartitionLog#forceWritten()}. */
    void forceChannel() throws IOException
    {
        channel.force(false);
    }

    private void readFully(final ByteBuffer dst, final long position) throws IOException
    {
        long at = position;
        while (dst.hasRemaining())
        {
            final int n = channel.read(dst, at);
            if (n < 0)
            {
                throw corrupt(position, "the file ends inside the record");
            }
            at += n;
        }
    }

    private LogCorruptedException corrupt(final long position, final String what)
    {
        return new LogCorruptedException(file, position, "refusing to read " + file + " at byte " + position + ": "
            + what + ". The record is damaged; reads of other records still work. To cut the log at this record,"
            + " close it and open it with LogOptions.withRepairTruncate(true), which verifies every segment and"
            + " deletes everything from the first damaged record on; or restore the partition from a replica or backup");
    }

    /** Syncs, trims the index to its entries, and keeps the file open for reads: the segment takes no more appends. */
    void seal() throws IOException
    {
        channel.force(true);
        index.trim();
    }

    void close() throws IOException
    {
        index.close();
        channel.close();
    }

    /** Closes and deletes both files. */
    void delete() throws IOException
    {
        index.abandon();
        channel.close();
        Files.deleteIfExists(file);
        Files.deleteIfExists(index.path());
    }
}
