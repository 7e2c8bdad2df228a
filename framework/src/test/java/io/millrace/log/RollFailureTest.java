package io.millrace.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.millrace.log.LogTesting.appendRecords;
import static io.millrace.log.LogTesting.assertAllReadable;
import static io.millrace.log.LogTesting.bases;
import static io.millrace.log.LogTesting.payload;
import static io.millrace.log.LogTesting.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A roll that cannot create the next segment (the process is out of file descriptors: any client
 * holding enough connections causes it) must not poison the log for good: nothing was changed, so
 * the log stays usable and the next roll is tried again once descriptors are free.
 */
class RollFailureTest
{
    @TempDir
    Path dir;

    @Test
    void aRollThatCannotOpenTheNextSegmentLeavesTheLogUsable() throws Exception
    {
        final AtomicBoolean exhausted = new AtomicBoolean();
        final SegmentChannels channels = file ->
        {
            if (exhausted.get())
            {
                throw new FileSystemException(file.toString(), null, "Too many open files");
            }
            return SegmentChannels.FILES.open(file);
        };
        try (PartitionLog log = PartitionLog.open(dir, small().withChannels(channels)))
        {
            appendRecords(log, 20);
            final int segments = log.segmentCount();
            exhausted.set(true);
            IOException failed = null;
            long next = log.nextOffset();
            for (int i = 0; i < 100 && failed == null; i++)
            {
                try
                {
                    assertEquals(next, log.append(ByteBuffer.wrap(payload(next))));
                    next++;
                }
                catch (final IOException e)
                {
                    failed = e;
                }
            }
            assertTrue(failed != null, "the segment filled up and a roll was needed");
            assertTrue(failed.getMessage().contains("Too many open files"), failed.toString());
            assertEquals(segments, log.segmentCount(), "no half-made segment is left in the log");
            assertEquals(next, log.nextOffset(), "the refused record took no offset");
            assertEquals(segments, bases(dir).length, "no stray segment file is left on disk");
            exhausted.set(false);
            assertEquals(next, log.append(ByteBuffer.wrap(payload(next))), "the log works again once files can be opened");
            next++;
            assertTrue(log.segmentCount() > segments, "the roll happened on the retry");
            assertEquals(next, log.nextOffset());
            assertAllReadable(log);
            log.flush();
        }
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            assertTrue(log.recovery().clean(), "closed cleanly");
            assertAllReadable(log);
            for (long o = 0; o < log.nextOffset(); o++)
            {
                assertArrayEquals(payload(o), log.read(o), "offset " + o);
            }
        }
    }

    @Test
    void aBatchWhoseRollFailsKeepsTheRecordsBeforeTheRollAndRefusesTheRest() throws Exception
    {
        final AtomicBoolean exhausted = new AtomicBoolean();
        final SegmentChannels channels = file ->
        {
            if (exhausted.get())
            {
                throw new FileSystemException(file.toString(), null, "Too many open files");
            }
            return SegmentChannels.FILES.open(file);
        };
        try (PartitionLog log = PartitionLog.open(dir, small().withChannels(channels)))
        {
            appendRecords(log, 3);
            final long first = log.nextOffset();
            final ByteBuffer[] batch = new ByteBuffer[40];
            for (int i = 0; i < batch.length; i++)
            {
                batch[i] = ByteBuffer.wrap(payload(first + i));
            }
            exhausted.set(true);
            final NoNextSegmentException e = assertThrows(NoNextSegmentException.class,
                () -> log.appendBatch(batch, 0, batch.length));
            assertTrue(e.appended() > 0 && e.appended() < batch.length, "the roll came mid-batch: " + e.appended());
            assertEquals(first + e.appended(), log.nextOffset(), "the prefix is in the log, the rest is not");
            exhausted.set(false);
            final long resumed = log.nextOffset();
            for (long o = resumed; o < resumed + 30; o++)
            {
                assertEquals(o, log.append(ByteBuffer.wrap(payload(o))));
            }
            assertAllReadable(log);
        }
        try (PartitionLog log = PartitionLog.open(dir, small()))
        {
            for (long o = 0; o < log.nextOffset(); o++)
            {
                assertArrayEquals(payload(o), log.read(o), "offset " + o);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ForceMode.class)
    void groupCommitAcknowledgesWhatWasAppendedAndFailsOnlyTheRefusedRecords(final ForceMode mode) throws Exception
    {
        final AtomicBoolean exhausted = new AtomicBoolean();
        final SegmentChannels channels = file ->
        {
            if (exhausted.get())
            {
                throw new FileSystemException(file.toString(), null, "Too many open files");
            }
            return SegmentChannels.FILES.open(file);
        };
        final List<AppendRig.Append> all = new ArrayList<>();
        try (AppendRig rig = new AppendRig(dir, 1, small().withChannels(channels),
            GroupCommitOptions.defaults(1).withForceMode(mode)))
        {
            exhausted.set(true);
            for (int i = 0; i < 200; i++)
            {
                final AppendRig.Append a = new AppendRig.Append(0, payload(i), Ack.DURABLE);
                all.add(a);
                rig.submit(a);
            }
            GroupCommitTest.awaitCompleted(rig, all.size());
            exhausted.set(false);
            for (int i = 200; i < 400; i++)
            {
                final AppendRig.Append a = new AppendRig.Append(0, payload(i), Ack.DURABLE);
                all.add(a);
                rig.submit(a);
            }
            GroupCommitTest.awaitCompleted(rig, all.size());
            final PartitionLog log = rig.logs[0];
            int refused = 0;
            long appended = 0;
            for (final AppendRig.Append a : all)
            {
                if (a.error != null)
                {
                    assertTrue(a.error instanceof NoNextSegmentException, a.error.toString());
                    refused++;
                }
                else
                {
                    assertArrayEquals(a.payload, log.read(a.offset), "an acknowledged record is at its offset");
                    appended++;
                }
            }
            assertTrue(refused > 0, "rolls were refused while the descriptors were exhausted");
            assertTrue(all.subList(200, 400).stream().allMatch(a -> a.error == null), "the log works again afterwards");
            assertEquals(appended, log.nextOffset(), "the log holds exactly the acknowledged records: none refused, none twice");
        }
    }

    @Test
    void anIndexThatCannotBeOpenedLeaksNoChannel() throws Exception
    {
        final int[] opened = new int[1];
        final int[] closed = new int[1];
        final SegmentChannels counting = file ->
        {
            opened[0]++;
            return new DelegatingChannel(SegmentChannels.FILES.open(file))
            {
                @Override
                protected void implCloseChannel() throws IOException
                {
                    closed[0]++;
                    super.implCloseChannel();
                }
            };
        };
        // A directory where the index file should be: the index cannot be created.
        java.nio.file.Files.createDirectories(dir.resolve(Segment.name(0) + ".index"));
        assertThrows(IOException.class, () -> PartitionLog.open(dir, small().withChannels(counting)));
        assertEquals(opened[0], closed[0], "the segment's channel is closed when its index cannot be opened");
    }
}
