package io.millrace.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static io.millrace.log.LogTesting.appendRecords;
import static io.millrace.log.LogTesting.assertAllReadable;
import static io.millrace.log.LogTesting.bases;
import static io.millrace.log.LogTesting.copyLogs;
import static io.millrace.log.LogTesting.flipByte;
import static io.millrace.log.LogTesting.recordStarts;
import static io.millrace.log.LogTesting.segmentFile;
import static io.millrace.log.LogTesting.small;
import static io.millrace.log.LogTesting.truncate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recovery keeps exactly the valid prefix: after a cut at every byte of the tail segment, after
 * single-byte damage in it, and refuses (or, asked to, repairs) damage in an older segment.
 */
class RecoveryTest
{
    @TempDir
    Path tmp;

    /** Writes {@code n} records with small segments into {@code tmp/original}, closed cleanly. */
    private Path written(final int n) throws Exception
    {
        final Path dir = tmp.resolve("original");
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            appendRecords(log, n);
        }
        return dir;
    }

    /** Opens a copy, checks it holds exactly offsets [0, kept), and that appends continue at {@code kept}. */
    private static void assertRecoversTo(final Path dir, final long kept) throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertFalse(log.recovery().clean());
            assertEquals(kept, log.nextOffset(), dir.toString());
            assertAllReadable(log);
            appendRecords(log, 3);
            assertEquals(kept + 3, log.nextOffset());
        }
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertTrue(log.recovery().clean());
            assertEquals(kept + 3, log.nextOffset());
            assertAllReadable(log);
        }
    }

    @Test
    void aCutAtEveryByteOfTheTailKeepsExactlyTheWholeRecordsBeforeIt() throws Exception
    {
        final Path original = written(80); // three segments
        final long[] bases = bases(original);
        assertEquals(3, bases.length);
        final long tailBase = bases[2];
        final long tailCount = 80 - tailBase;
        final long[] starts = recordStarts(tailBase, tailCount);
        final long tailSize = Files.size(segmentFile(original, tailBase));
        assertEquals(starts[(int) tailCount], tailSize);
        for (long cut = 0; cut <= tailSize; cut++)
        {
            final Path copy = tmp.resolve("cut-" + cut);
            copyLogs(original, copy);
            truncate(segmentFile(copy, tailBase), cut);
            int whole = 0;
            while (whole < tailCount && starts[whole + 1] <= cut)
            {
                whole++;
            }
            assertRecoversTo(copy, tailBase + whole);
        }
    }

    @Test
    void aFlippedByteInTheTailKeepsExactlyTheRecordsBeforeTheDamagedOne() throws Exception
    {
        final Path original = written(80);
        final long tailBase = bases(original)[2];
        final long tailCount = 80 - tailBase;
        final long[] starts = recordStarts(tailBase, tailCount);
        final Random r = new Random(20240613);
        for (int c = 0; c < 300; c++)
        {
            final Path copy = tmp.resolve("flip-" + c);
            copyLogs(original, copy);
            final long at = (long) (r.nextDouble() * starts[(int) tailCount]);
            flipByte(segmentFile(copy, tailBase), at, 1 + r.nextInt(255));
            int damaged = 0;
            while (starts[damaged + 1] <= at)
            {
                damaged++;
            }
            assertRecoversTo(copy, tailBase + damaged);
        }
    }

    @Test
    void aFlippedByteInAnOlderSegmentStopsTheOpenNamingFilePositionAndRepair() throws Exception
    {
        final Path original = written(80);
        final long[] bases = bases(original);
        final Random r = new Random(99);
        for (int c = 0; c < 100; c++)
        {
            final Path copy = tmp.resolve("old-" + c);
            copyLogs(original, copy);
            final int seg = r.nextInt(2);
            final long count = bases[seg + 1] - bases[seg];
            final long[] starts = recordStarts(bases[seg], count);
            final long at = (long) (r.nextDouble() * starts[(int) count]);
            flipByte(segmentFile(copy, bases[seg]), at, 1 + r.nextInt(255));
            int damaged = 0;
            while (starts[damaged + 1] <= at)
            {
                damaged++;
            }
            final LogCorruptedException e = assertThrows(LogCorruptedException.class, () -> PartitionLog.open(copy, small()));
            assertEquals(segmentFile(copy, bases[seg]), e.file());
            assertEquals(starts[damaged], e.position());
            assertTrue(e.getMessage().contains("withRepairTruncate(true)"), e.getMessage());
            assertTrue(e.getMessage().contains(segmentFile(copy, bases[seg]).toString()), e.getMessage());
            assertEquals(3, bases(copy).length, "nothing was truncated or deleted");
            try (PartitionLog log = PartitionLog.open(copy, small().withRepairTruncate(true)))
            {
                assertEquals(bases[seg] + damaged, log.nextOffset());
                assertEquals(seg + 1, log.segmentCount());
                assertEquals(2 - seg, log.recovery().repairedAway().size());
                assertAllReadable(log);
            }
        }
    }

    @Test
    void aMissingOlderSegmentIsAGapThatStopsTheOpen() throws Exception
    {
        final Path original = written(80);
        final long[] bases = bases(original);
        Files.delete(segmentFile(original, bases[1]));
        Files.delete(original.resolve(PartitionLog.CLEAN_MARKER));
        final LogCorruptedException e = assertThrows(LogCorruptedException.class, () -> PartitionLog.open(original, small()));
        assertTrue(e.getMessage().contains("next segment starts at offset " + bases[2]), e.getMessage());
    }

    @Test
    void withTheCleanMarkerNothingIsScannedAndDamageIsCaughtOnRead() throws Exception
    {
        final Path dir = written(80);
        final long[] bases = bases(dir);
        // Record 0 is empty (16 bytes), record 1 has a 1-byte payload at byte 32: damage it.
        flipByte(segmentFile(dir, bases[0]), 2 * RecordCodec.HEADER_BYTES, 0x40);
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertTrue(log.recovery().clean());
            assertEquals(0, log.recovery().segmentsScanned());
            assertEquals(80, log.nextOffset());
            final LogCorruptedException e = assertThrows(LogCorruptedException.class, () -> log.read(1));
            assertEquals(RecordCodec.HEADER_BYTES, e.position());
            assertTrue(e.getMessage().contains(segmentFile(dir, bases[0]).toString()), e.getMessage());
            assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
            assertEquals(2, log.read(2).length, "other records still read");
        }
    }

    @Test
    void aTornTailDespiteTheMarkerIsRecoveredAsAfterACrash() throws Exception
    {
        final Path dir = written(80);
        final long tailBase = bases(dir)[2];
        final long[] starts = recordStarts(tailBase, 80 - tailBase);
        truncate(segmentFile(dir, tailBase), starts[3] + 5);
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertFalse(log.recovery().clean());
            assertTrue(log.recovery().markerContradicted());
            assertEquals(RecordStatus.TORN, log.recovery().truncatedStatus());
            assertEquals(starts[3], log.recovery().truncatedAt());
            assertEquals(tailBase + 3, log.nextOffset());
            assertAllReadable(log);
        }
    }
}
