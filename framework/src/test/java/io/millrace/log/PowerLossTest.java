package io.millrace.log;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The power-loss test: {@code kill -9} keeps the page cache, so only a disk that forgets what was not
 * forced can show that {@link Ack#DURABLE} waits for the force. Appends run through a
 * {@link GroupCommit} over a {@link PowerCutDisk}; the power is cut at a random moment; the log is
 * reopened from what the disk kept. Every durable-acknowledged record must be there with its
 * payload at its offset, offsets dense, recovery clean; {@code NONE}-acknowledged records may be lost.
 */
class PowerLossTest
{
    static final int SEEDS = 12;

    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(ForceMode.class)
    void everyDurableAcknowledgementSurvivesAPowerCut(final ForceMode mode) throws Exception
    {
        long durableChecked = 0;
        long noneLost = 0;
        for (int seed = 0; seed < SEEDS; seed++)
        {
            final Random random = new Random(seed * 1_000_003L + mode.ordinal());
            final Path dir = root.resolve(mode + "-" + seed);
            final PowerCutDisk disk = new PowerCutDisk();
            final LogOptions options = LogTesting.small().withSegmentBytes(8192).withMaxRecordBytes(2048)
                .withChannels(disk.channels());
            final int topics = 3;
            final AppendRig rig = new AppendRig(dir, topics, options,
                GroupCommitOptions.defaults(2).withForceMode(mode).withMaxAppendsPerTurn(32).withStagingBytes(2048));
            final List<AppendRig.Append> sent = new ArrayList<>();
            final int total = 400 + random.nextInt(1200);
            final int cutAfter = random.nextInt(total);
            final Thread[] submitters = new Thread[3];
            for (int s = 0; s < submitters.length; s++)
            {
                final Random r = new Random(random.nextLong());
                final List<AppendRig.Append> mine = new ArrayList<>();
                for (int i = 0; i < total / submitters.length; i++)
                {
                    final byte[] p = new byte[r.nextInt(r.nextInt(10) == 0 ? 2048 : 120)];
                    r.nextBytes(p);
                    mine.add(new AppendRig.Append(r.nextInt(topics), p, r.nextInt(3) == 0 ? Ack.NONE : Ack.DURABLE));
                }
                synchronized (sent)
                {
                    sent.addAll(mine);
                }
                submitters[s] = Thread.ofPlatform().start(() -> mine.forEach(rig::submit));
            }
            while (rig.completed.size() < cutAfter)
            {
                Thread.onSpinWait();
            }
            disk.cut(random, random.nextBoolean()); // the power goes, at a random moment under load
            for (final Thread t : submitters)
            {
                t.join();
            }
            rig.stop();
            for (final PartitionLog l : rig.logs)
            {
                try
                {
                    l.close();
                }
                catch (Exception expected)
                {
                    // the disk is gone: closing cannot force or leave its marker
                }
            }
            for (int t = 0; t < topics; t++)
            {
                try (PartitionLog reopened = PartitionLog.open(dir.resolve("t" + t), LogTesting.small()
                    .withSegmentBytes(8192).withMaxRecordBytes(2048)))
                {
                    assertTrue(!reopened.recovery().clean(), "recovered as unclean");
                    final long next = reopened.nextOffset();
                    for (long o = 0; o < next; o++)
                    {
                        reopened.read(o); // every record up to the end reads back with a good CRC: none torn
                    }
                    for (final AppendRig.Append a : sent)
                    {
                        if (a.topic != t || a.error != null || a.offset < 0)
                        {
                            continue;
                        }
                        if (a.ack == Ack.DURABLE && a.acks.get() == 1)
                        {
                            assertTrue(a.offset < next, "seed " + a + ": durable offset " + a.offset + " lost, log ends at " + next);
                            assertArrayEquals(a.payload, reopened.read(a.offset), "durable record " + a.offset + " of t" + t);
                            durableChecked++;
                        }
                        else if (a.offset < next)
                        {
                            assertArrayEquals(a.payload, reopened.read(a.offset), "surviving record " + a.offset + " of t" + t);
                        }
                        else
                        {
                            noneLost++;
                        }
                    }
                }
            }
        }
        assertTrue(durableChecked > 0, "the test checked durable records");
        System.out.println("power-loss " + mode + ": " + SEEDS + " cuts, " + durableChecked
            + " durable-acknowledged records checked, " + noneLost + " unforced records lost");
        assertEquals(0, 0);
    }
}
