package io.millrace.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings the segments found at open to a consistent state; the rules (also in {@code docs/log.md}):
 * <ul>
 *   <li><b>Clean</b> (marker present, no repair asked): every index is loaded and checked (strictly
 *       increasing, inside its segment) or rebuilt; only the tail's last index interval is read, to
 *       find its end. If that does not end on a whole record, the marker is not believed: unclean.</li>
 *   <li><b>Unclean</b>: every segment is read in full, every CRC verified, every index rebuilt.
 *       Segments before the tail were forced when they were rolled, so a crash cannot have damaged
 *       them: any damage there (a bad record, a torn end, a gap in offsets) stops the open with a
 *       {@link LogCorruptedException}, unless {@link LogOptions#repairTruncate()} asks to cut there.
 *       The tail is truncated at its first torn or corrupt record, like Kafka's active segment:
 *       records after a bad one cannot be trusted to be in order, and were written after it, so they
 *       belong to the same unforced writes.</li>
 * </ul>
 * Threading: runs on the thread opening the log.
 */
final class LogRecovery
{
    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);

    private final List<Segment> segments;
    private final RecordCodec codec;
    private final ByteBuffer buffer;
    private final LogOptions options;
    private int scanned;
    private long scannedBytes;
    private int rebuilt;
    private Path truncatedFile;
    private long truncatedAt = -1;
    private long truncatedBytes;
    private RecordStatus truncatedStatus;
    private final List<Path> repairedAway = new ArrayList<>();

    LogRecovery(final List<Segment> segments, final RecordCodec codec, final ByteBuffer buffer, final LogOptions options)
    {
        this.segments = segments;
        this.codec = codec;
        this.buffer = buffer;
        this.options = options;
    }

    /** Recovers {@link #segments} in place (repair may delete some); returns what was done. */
    RecoveryReport run(final boolean markerPresent) throws IOException
    {
        if (markerPresent && !options.repairTruncate() && openClean())
        {
            return report(true, false);
        }
        scanned = 0;
        scannedBytes = 0;
        rebuilt = 0;
        for (int i = 0; i < segments.size(); i++)
        {
            final Segment s = segments.get(i);
            final boolean tail = i == segments.size() - 1;
            s.index.reset();
            s.scan(codec, buffer, 0, s.baseOffset, true);
            scanned++;
            scannedBytes += s.scanBytes;
            rebuilt++;
            final long nextBase = tail ? -1 : segments.get(i + 1).baseOffset;
            if (s.scanStatus == RecordStatus.OK && (tail || s.scanNextOffset == nextBase))
            {
                s.nextOffset = s.scanNextOffset;
                s.index.resumeAt(s.scanEnd);
                continue;
            }
            if (!tail && !options.repairTruncate())
            {
                throw damageBeforeTail(s, nextBase);
            }
            cut(s, i, nextBase);
            break;
        }
        return report(false, markerPresent && !options.repairTruncate());
    }

    /** @return false if the tail does not end on a whole record (the caller then recovers as unclean) */
    private boolean openClean() throws IOException
    {
        for (int i = 0; i < segments.size(); i++)
        {
            final Segment s = segments.get(i);
            final boolean tail = i == segments.size() - 1;
            boolean indexed = s.index.load(s.size());
            if (indexed)
            {
                final int last = s.index.entries() - 1;
                final long lastPosition = last < 0 ? 0 : s.index.position(last);
                s.scan(codec, buffer, lastPosition, last < 0 ? s.baseOffset : s.baseOffset + s.index.relative(last), false);
                // Not OK: the last entry may point at the wrong record. A record an interval past the last
                // entry: the index would have an entry for it, so it lost its end (or the whole file).
                indexed = s.scanStatus == RecordStatus.OK
                    && s.scanLastStart - lastPosition < options.indexIntervalBytes();
            }
            if (!indexed)
            {
                s.index.reset();
                s.scan(codec, buffer, 0, s.baseOffset, true);
                rebuilt++;
                scanned++;
                scannedBytes += s.scanBytes;
            }
            if (s.scanStatus != RecordStatus.OK && !tail)
            {
                throw damageBeforeTail(s, segments.get(i + 1).baseOffset);
            }
            if (s.scanStatus != RecordStatus.OK)
            {
                LOG.warn("{}: the clean-shutdown marker is present but the segment does not end on a whole record"
                    + " ({} at byte {}); recovering as after a crash", s.file, s.scanStatus, s.scanEnd);
                return false;
            }
            s.nextOffset = tail ? s.scanNextOffset : segments.get(i + 1).baseOffset;
            s.index.resumeAt(s.size());
        }
        return true;
    }

    /** Truncates segment {@code i} where its scan stopped; a repair also deletes every later segment. */
    private void cut(final Segment s, final int i, final long nextBase) throws IOException
    {
        truncatedFile = s.file;
        truncatedAt = s.scanEnd;
        truncatedBytes = s.size() - s.scanEnd;
        truncatedStatus = s.scanStatus == RecordStatus.OK ? RecordStatus.BAD_OFFSET : s.scanStatus;
        if (i < segments.size() - 1)
        {
            LOG.warn("repairing {}: cutting at byte {} ({}, the next segment starts at offset {}) and deleting {} later"
                + " segments", s.file, s.scanEnd, s.scanStatus, nextBase, segments.size() - 1 - i);
        }
        else
        {
            LOG.warn("recovering {}: truncating {} bytes at byte {} ({})", s.file, truncatedBytes, s.scanEnd, s.scanStatus);
        }
        s.truncate(s.scanEnd);
        s.nextOffset = s.scanNextOffset;
        while (segments.size() > i + 1)
        {
            final Segment later = segments.remove(segments.size() - 1);
            repairedAway.add(later.file);
            later.delete();
        }
    }

    private LogCorruptedException damageBeforeTail(final Segment s, final long nextBase)
    {
        final String what = s.scanStatus == RecordStatus.OK
            ? "its records end at offset " + (s.scanNextOffset - 1) + " but the next segment starts at offset " + nextBase
            : "the record of offset " + s.scanNextOffset + " is " + s.scanStatus
                + (s.scanStatus == RecordStatus.TORN ? " (the file ends inside it)" : "");
        return new LogCorruptedException(s.file, s.scanEnd, "log segment " + s.file + " is damaged at byte "
            + s.scanEnd + ": " + what + ". It is not the tail segment, so its records were acknowledged and are not"
            + " truncated silently. To keep the records before this point and delete the rest of this segment and every"
            + " later segment, open the log with LogOptions.withRepairTruncate(true); or restore the partition"
            + " directory from a replica or backup");
    }

    private RecoveryReport report(final boolean clean, final boolean contradicted)
    {
        return new RecoveryReport(clean, contradicted, scanned, scannedBytes, rebuilt, truncatedFile, truncatedAt,
            truncatedBytes, truncatedStatus, List.copyOf(repairedAway));
    }
}
