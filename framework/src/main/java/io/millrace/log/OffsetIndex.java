package io.millrace.log;

import org.agrona.IoUtil;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The sparse offset index of one segment: a memory-mapped file of 8-byte entries
 * {@code (relative offset u32, position u32)}, big-endian, both strictly increasing. An entry is
 * added for the first record that starts at least {@code indexIntervalBytes} after the previous
 * entry's record (or after the segment start), so no entry ever points at position 0 and an all-zero
 * entry marks the end of a preallocated file. The rule depends only on record sizes, so an index
 * rebuilt from its segment is byte for byte the one that was written.
 *
 * <p>A lookup finds the last entry at or below the wanted offset by binary search; the segment is
 * then scanned from there, at most about one interval of bytes.
 *
 * <p>Threading: owned by the segment's thread. The file is preallocated to {@code maxIndexBytes}
 * while it is written and trimmed to its entries when the segment is rolled or closed.
 */
final class OffsetIndex
{
    static final int ENTRY_BYTES = 8;

    private final Path path;
    private final long baseOffset;
    private final int intervalBytes;
    private final int maxEntries;
    private FileChannel channel;
    private MappedByteBuffer map;
    private int entries;
    private long bytesSinceEntry;

    OffsetIndex(final Path path, final long baseOffset, final int intervalBytes, final int maxIndexBytes)
        throws IOException
    {
        this.path = path;
        this.baseOffset = baseOffset;
        this.intervalBytes = intervalBytes;
        this.maxEntries = maxIndexBytes / ENTRY_BYTES;
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.map = channel.map(FileChannel.MapMode.READ_WRITE, 0, maxIndexBytes);
    }

    Path path()
    {
        return path;
    }

    int entries()
    {
        return entries;
    }

    boolean full()
    {
        return entries == maxEntries;
    }

    /**
     * Loads the entries already in the file, checking that they are strictly increasing and point
     * inside a segment of {@code segmentBytes}. Stops at the first all-zero entry.
     *
     * @return false if the file is damaged (the caller then {@link #reset()}s and rebuilds it)
     */
    boolean load(final long segmentBytes)
    {
        long previousRelative = 0;
        long previousPosition = 0;
        int n = 0;
        for (; n < maxEntries; n++)
        {
            final long relative = Integer.toUnsignedLong(map.getInt(n * ENTRY_BYTES));
            final long position = Integer.toUnsignedLong(map.getInt(n * ENTRY_BYTES + 4));
            if (relative == 0 && position == 0)
            {
                break;
            }
            if (relative <= previousRelative || position <= previousPosition || position >= segmentBytes)
            {
                return false;
            }
            previousRelative = relative;
            previousPosition = position;
        }
        entries = n;
        return true;
    }

    /** Forgets every entry and zeroes the used part of the file, before a rebuild. */
    void reset()
    {
        for (int i = 0; i < maxEntries * ENTRY_BYTES; i += ENTRY_BYTES)
        {
            map.putLong(i, 0L);
        }
        entries = 0;
        bytesSinceEntry = 0;
    }

    /** Sets the byte count since the last entry from the segment's end, after a load or a truncation. */
    void resumeAt(final long segmentEnd)
    {
        bytesSinceEntry = segmentEnd - (entries == 0 ? 0 : position(entries - 1));
    }

    /** Notes a record appended at {@code position}; adds an entry if an interval has passed. */
    void onAppend(final long offset, final long position, final int recordBytes)
    {
        if (bytesSinceEntry >= intervalBytes && entries < maxEntries)
        {
            map.putInt(entries * ENTRY_BYTES, (int) (offset - baseOffset));
            map.putInt(entries * ENTRY_BYTES + 4, (int) position);
            entries++;
            bytesSinceEntry = 0;
        }
        bytesSinceEntry += recordBytes;
    }

    /** Drops entries at or beyond {@code segmentEnd} after the segment was truncated there. */
    void truncateTo(final long segmentEnd)
    {
        while (entries > 0 && position(entries - 1) >= segmentEnd)
        {
            entries--;
            map.putLong(entries * ENTRY_BYTES, 0L);
        }
        resumeAt(segmentEnd);
    }

    /** @return the index of the last entry whose offset is at most {@code offset}, or -1 if none */
    /**
     * @return the last entry whose position is at or below {@code position}, or -1 if none
     */
    int floorByPosition(final long position)
    {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (position(mid) <= position)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    int floor(final long offset)
    {
        final long relative = offset - baseOffset;
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (relative(mid) <= relative)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    long relative(final int entry)
    {
        return Integer.toUnsignedLong(map.getInt(entry * ENTRY_BYTES));
    }

    long position(final int entry)
    {
        return Integer.toUnsignedLong(map.getInt(entry * ENTRY_BYTES + 4));
    }

    /**
     * Writes the mapped entries back, trims the file to them and maps it read-only: for a segment
     * that takes no more appends (rolled, or at close). Idempotent.
     */
    void trim() throws IOException
    {
        map.force();
        IoUtil.unmap(map);
        channel.truncate((long) entries * ENTRY_BYTES);
        channel.force(true);
        map = channel.map(FileChannel.MapMode.READ_ONLY, 0, (long) entries * ENTRY_BYTES);
    }

    /** Trims, unmaps and closes. */
    void close() throws IOException
    {
        if (channel == null)
        {
            return;
        }
        trim();
        IoUtil.unmap(map);
        map = null;
        channel.close();
        channel = null;
    }

    /** Unmaps and closes without writing back, before the files are deleted. */
    void abandon() throws IOException
    {
        if (channel != null)
        {
            IoUtil.unmap(map);
            map = null;
            channel.close();
            channel = null;
        }
    }
}
