package io.millrace.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static io.millrace.log.LogTesting.appendRecords;
import static io.millrace.log.LogTesting.assertAllReadable;
import static io.millrace.log.LogTesting.bases;
import static io.millrace.log.LogTesting.indexFile;
import static io.millrace.log.LogTesting.payload;
import static io.millrace.log.LogTesting.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Appends, reads through the index across rolls, reopening, index rebuilds and retention. */
class PartitionLogTest
{
    @TempDir
    Path dir;

    @Test
    void indexLookupsAcrossManySegmentRollsFindEveryRecord() throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            appendRecords(log, 3000);
            assertTrue(log.segmentCount() > 50, "rolled " + log.segmentCount());
            assertAllReadable(log);
            final Random r = new Random(1);
            for (int i = 0; i < 2000; i++)
            {
                final long o = r.nextInt(3000);
                assertArrayEquals(payload(o), log.read(o), "offset " + o);
            }
            assertNull(log.read(3000), "beyond the end");
            assertNull(log.read(-1));
        }
        final long[] bases = bases(dir);
        for (int i = 1; i < bases.length; i++)
        {
            assertTrue(Files.size(LogTesting.segmentFile(dir, bases[i - 1])) <= 1024, "segments stay within their size");
        }
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertTrue(log.recovery().clean());
            assertEquals(0, log.recovery().segmentsScanned(), "a clean open reads no segment in full");
            assertEquals(3000, log.nextOffset());
            appendRecords(log, 10);
            assertAllReadable(log);
        }
    }

    @Test
    void appendBatchAssignsDenseOffsetsAcrossRollsAndRefusesOversizedRecordsWhole() throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            final ByteBuffer[] batch = new ByteBuffer[700];
            for (int i = 0; i < batch.length; i++)
            {
                batch[i] = ByteBuffer.wrap(payload(i));
            }
            assertEquals(0, log.appendBatch(batch, 0, batch.length));
            assertEquals(700, log.nextOffset());
            assertAllReadable(log);
            final ByteBuffer[] bad = {ByteBuffer.wrap(payload(700)), ByteBuffer.allocate(1025)};
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.appendBatch(bad, 0, 2));
            assertTrue(e.getMessage().contains("nothing was appended"), e.getMessage());
            assertEquals(700, log.nextOffset());
            appendRecords(log, 1);
            assertAllReadable(log);
        }
    }

    @Test
    void aMissingOrGarbageIndexIsRebuiltToTheSameBytes() throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            appendRecords(log, 400);
        }
        final long[] bases = bases(dir);
        final byte[] original0 = Files.readAllBytes(indexFile(dir, bases[0]));
        final byte[] originalTail = Files.readAllBytes(indexFile(dir, bases[bases.length - 1]));
        assertTrue(original0.length > 0);
        Files.delete(indexFile(dir, bases[0]));
        final byte[] garbage = new byte[4096];
        new Random(3).nextBytes(garbage);
        Files.write(indexFile(dir, bases[bases.length - 1]), garbage);
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertEquals(2, log.recovery().indexesRebuilt());
            assertEquals(400, log.nextOffset());
            assertAllReadable(log);
            appendRecords(log, 5);
            assertAllReadable(log);
        }
        assertArrayEquals(original0, Files.readAllBytes(indexFile(dir, bases[0])));
        assertTrue(originalTail.length > 0);
    }

    @Test
    void sizeRetentionDeletesWholeOldSegmentsButKeepsAtLeastTheLimitAndNeverTheTail() throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small().withRetentionBytes(3000)))
        {
            appendRecords(log, 1000);
            final int before = log.segmentCount();
            final int deleted = log.enforceRetention();
            assertTrue(deleted > 0);
            assertEquals(before - deleted, log.segmentCount());
            assertTrue(log.sizeBytes() >= 3000, "kept " + log.sizeBytes());
            assertTrue(log.sizeBytes() < 3000 + 1024, "kept " + log.sizeBytes());
            assertEquals(log.startOffset(), bases(dir)[0]);
            assertNull(log.read(log.startOffset() - 1), "below retention");
            assertAllReadable(log);
        }
        try (PartitionLog log = PartitionLog.open(dir, small().withRetentionBytes(0)))
        {
            log.enforceRetention();
            assertEquals(1, log.segmentCount(), "the tail stays even over the limit");
            assertEquals(1000, log.nextOffset());
            appendRecords(log, 1);
            assertAllReadable(log);
        }
    }

    @Test
    void ageRetentionDeletesSegmentsWhoseLastAppendIsOlderThanTheLimit() throws Exception
    {
        final AtomicLong now = new AtomicLong(1_000_000);
        try (PartitionLog log = PartitionLog.open(dir, small().withRetentionMillis(10_000).withClock(now::get)))
        {
            appendRecords(log, 200); // several segments at t = 1 000 000
            log.roll();
            final long youngStart = log.nextOffset();
            now.addAndGet(8_000);
            appendRecords(log, 100);
            now.addAndGet(5_000); // old ones are 13 s old, young ones 5 s
            final int deleted = log.enforceRetention();
            assertTrue(deleted > 0);
            assertEquals(youngStart, log.startOffset());
            assertFalse(log.enforceRetention() > 0);
            now.addAndGet(60_000);
            log.enforceRetention();
            assertEquals(1, log.segmentCount(), "never the tail");
            assertAllReadable(log);
        }
    }

    @Test
    void deleteSegmentsBelowDropsOnlyWholeSegmentsUnderTheOffsetAndNeverTheTail() throws Exception
    {
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            appendRecords(log, 500);
            final long[] before = bases(dir);
            assertTrue(before.length > 4, "several segments: " + before.length);
            assertEquals(0, log.deleteSegmentsBelow(before[1] - 1), "segment 0 still holds offset " + (before[1] - 1));
            assertEquals(0, log.deleteSegmentsBelow(-5));
            final long cut = before[3] + 1; // inside segment 3: segments 0, 1, 2 are wholly below it
            assertEquals(3, log.deleteSegmentsBelow(cut));
            assertEquals(before[3], log.startOffset());
            assertArrayEquals(java.util.Arrays.copyOfRange(before, 3, before.length), bases(dir));
            assertFalse(Files.exists(indexFile(dir, before[0])), "the index goes with its segment");
            assertNull(log.read(before[3] - 1));
            assertArrayEquals(payload(before[3]), log.read(before[3]), "the segment holding the offset stays whole");
            assertAllReadable(log);
            assertEquals(before.length - 4, log.deleteSegmentsBelow(Long.MAX_VALUE), "everything but the tail");
            assertEquals(1, log.segmentCount());
            assertEquals(500, log.nextOffset());
            log.roll();
            appendRecords(log, 3);
            assertEquals(1, log.deleteSegmentsBelow(log.nextOffset()), "after a roll the old tail goes too");
            assertEquals(500, log.startOffset());
        }
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertTrue(log.recovery().clean());
            assertEquals(500, log.startOffset());
            assertEquals(503, log.nextOffset());
            assertAllReadable(log);
        }
        Files.delete(dir.resolve(PartitionLog.CLEAN_MARKER)); // as after a crash: every segment is scanned
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertFalse(log.recovery().clean());
            assertEquals(500, log.startOffset());
            appendRecords(log, 2);
            assertAllReadable(log);
        }
    }

    @Test
    void misuseFailsFastWithAMessage() throws Exception
    {
        final PartitionLog log = PartitionLog.open(dir, small());
        log.close();
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.append(ByteBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        log.close();
        assertThrows(IllegalArgumentException.class, () -> LogOptions.defaults().withMaxIndexBytes(12));
        assertThrows(IllegalArgumentException.class, () -> LogOptions.defaults().withSegmentBytes(3));
    }
}
