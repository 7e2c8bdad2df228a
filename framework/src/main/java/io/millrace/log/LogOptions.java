package io.millrace.log;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How a {@link PartitionLog} lays out and keeps its files. Immutable; start from {@link #defaults()}
 * and change what you need with the {@code with...} methods.
 *
 * @param segmentBytes       a segment is rolled before an append would take it past this size
 *                           (a single larger record still gets a segment of its own); at most 2 GiB - 1
 *                           because index positions are u32
 * @param indexIntervalBytes an index entry is added once at least this many bytes were appended since the last
 * @param maxIndexBytes      size an index file is preallocated (and memory-mapped) to; a full index rolls the segment
 * @param maxRecordBytes     largest payload accepted by appends and by recovery (a larger length field is damage)
 * @param retentionBytes     {@link PartitionLog#enforceRetention()} deletes old segments while the rest still
 *                           holds at least this many bytes; -1: no size limit
 * @param retentionMillis    {@link PartitionLog#enforceRetention()} deletes segments whose last append is older; -1: none
 * @param clock              wall-clock milliseconds, for segment ages (injectable for tests)
 * @param repairTruncate     at open, truncate at corruption found before the tail segment (deleting every later
 *                           segment) instead of refusing to open; an explicit, logged repair, off by default
 * @param channels           how segment files are opened: {@link SegmentChannels#FILES} (real files); tests put a
 *                           fault-injecting channel here (a simulated power cut keeps only what was forced)
 */
public record LogOptions(int segmentBytes, int indexIntervalBytes, int maxIndexBytes, int maxRecordBytes,
                         long retentionBytes, long retentionMillis, LongSupplier clock, boolean repairTruncate,
                         SegmentChannels channels)
{
    /** Checks every field, with a message saying what is allowed. */
    public LogOptions
    {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(channels, "channels");
        if (maxRecordBytes < 0 || maxRecordBytes > Integer.MAX_VALUE - RecordCodec.HEADER_BYTES)
        {
            throw new IllegalArgumentException("maxRecordBytes must be in [0, 2 GiB - 17], was " + maxRecordBytes);
        }
        if (segmentBytes < RecordCodec.HEADER_BYTES)
        {
            throw new IllegalArgumentException("segmentBytes must be at least " + RecordCodec.HEADER_BYTES
                + " (one empty record), was " + segmentBytes);
        }
        if (indexIntervalBytes < 1)
        {
            throw new IllegalArgumentException("indexIntervalBytes must be positive, was " + indexIntervalBytes);
        }
        if (maxIndexBytes < OffsetIndex.ENTRY_BYTES || maxIndexBytes % OffsetIndex.ENTRY_BYTES != 0)
        {
            throw new IllegalArgumentException("maxIndexBytes must be a positive multiple of "
                + OffsetIndex.ENTRY_BYTES + ", was " + maxIndexBytes);
        }
        if (retentionBytes < -1 || retentionMillis < -1)
        {
            throw new IllegalArgumentException("retentionBytes and retentionMillis must be -1 (no limit) or >= 0, were "
                + retentionBytes + " and " + retentionMillis);
        }
    }

    /**
     * 1 GiB segments, an index entry every 4 KiB in a 2 MiB index (room for a full segment), 1 MiB
     * records, no retention, the system clock, no repair.
     */
    public static LogOptions defaults()
    {
        return new LogOptions(1 << 30, 4096, 2 << 20, 1 << 20, -1, -1, System::currentTimeMillis, false, SegmentChannels.FILES);
    }

    /** @return a copy with another segment size */
    public LogOptions withSegmentBytes(final int v)
    {
        return new LogOptions(v, indexIntervalBytes, maxIndexBytes, maxRecordBytes, retentionBytes, retentionMillis, clock, repairTruncate, channels);
    }

    /** @return a copy with another index interval */
    public LogOptions withIndexIntervalBytes(final int v)
    {
        return new LogOptions(segmentBytes, v, maxIndexBytes, maxRecordBytes, retentionBytes, retentionMillis, clock, repairTruncate, channels);
    }

    /** @return a copy with another index file size */
    public LogOptions withMaxIndexBytes(final int v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, v, maxRecordBytes, retentionBytes, retentionMillis, clock, repairTruncate, channels);
    }

    /** @return a copy with another maximum record size */
    public LogOptions withMaxRecordBytes(final int v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, v, retentionBytes, retentionMillis, clock, repairTruncate, channels);
    }

    /** @return a copy with another size retention (-1: none) */
    public LogOptions withRetentionBytes(final long v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, maxRecordBytes, v, retentionMillis, clock, repairTruncate, channels);
    }

    /** @return a copy with another age retention (-1: none) */
    public LogOptions withRetentionMillis(final long v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, maxRecordBytes, retentionBytes, v, clock, repairTruncate, channels);
    }

    /** @return a copy with another clock */
    public LogOptions withClock(final LongSupplier v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, maxRecordBytes, retentionBytes, retentionMillis, v, repairTruncate, channels);
    }

    /** @return a copy that repairs (truncates) corruption before the tail at open, see the record's doc */
    public LogOptions withRepairTruncate(final boolean v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, maxRecordBytes, retentionBytes, retentionMillis, clock, v, channels);
    }

    /** @return a copy whose segment files are opened by {@code v} (fault injection in tests) */
    public LogOptions withChannels(final SegmentChannels v)
    {
        return new LogOptions(segmentBytes, indexIntervalBytes, maxIndexBytes, maxRecordBytes, retentionBytes, retentionMillis, clock, repairTruncate, v);
    }
}
