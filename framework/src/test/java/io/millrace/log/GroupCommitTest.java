package io.millrace.log;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupCommitTest
{
    @TempDir
    Path dir;

    static byte[] payload(final Random random)
    {
        final byte[] b = new byte[random.nextInt(200)];
        random.nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(ForceMode.class)
    void everyAppendIsAcknowledgedOnceAtItsLevelWithDenseOffsetsAndItsOwnPayload(final ForceMode mode) throws Exception
    {
        final int topics = 5;
        final int perSubmitter = 5_000;
        final List<AppendRig.Append> all = new ArrayList<>();
        try (AppendRig rig = new AppendRig(dir, topics, LogTesting.small().withMaxRecordBytes(4096),
            GroupCommitOptions.defaults(2).withForceMode(mode).withMaxAppendsPerTurn(64).withStagingBytes(4096)))
        {
            final List<Thread> submitters = new ArrayList<>();
            for (int s = 0; s < 4; s++)
            {
                final Random random = new Random(s);
                final List<AppendRig.Append> mine = new ArrayList<>();
                for (int i = 0; i < perSubmitter; i++)
                {
                    // every 500th record is larger than the staging buffer: written directly, order kept
                    final byte[] p = i % 500 == 7 ? new byte[3000 + random.nextInt(1000)] : payload(random);
                    random.nextBytes(p);
                    mine.add(new AppendRig.Append(random.nextInt(topics), p, random.nextBoolean() ? Ack.DURABLE : Ack.NONE));
                }
                all.addAll(mine);
                submitters.add(Thread.ofPlatform().start(() -> mine.forEach(rig::submit)));
            }
            for (final Thread t : submitters)
            {
                t.join();
            }
            rig.stop();
            assertEquals(all.size(), rig.completed.size(), "every request completed");
            final Map<Integer, Map<Long, AppendRig.Append>> byOffset = new HashMap<>();
            for (final AppendRig.Append a : all)
            {
                assertNull(a.completionError);
                assertNull(a.error);
                assertEquals(1, a.acks.get(), "acknowledged exactly once");
                assertTrue(a.offset >= 0);
                if (a.ack == Ack.DURABLE)
                {
                    assertTrue(a.durableAtAck > a.offset, "a durable ack comes after the force that covers it: durable end "
                        + a.durableAtAck + ", offset " + a.offset);
                }
                final AppendRig.Append clash = byOffset.computeIfAbsent(a.topic, t -> new HashMap<>()).put(a.offset, a);
                assertNull(clash, "two appends got offset " + a.offset + " of topic " + a.topic);
            }
            for (int t = 0; t < topics; t++)
            {
                final PartitionLog log = rig.logs[t];
                final Map<Long, AppendRig.Append> mine = byOffset.getOrDefault(t, Map.of());
                assertEquals(mine.size(), log.nextOffset(), "offsets of topic " + t + " are dense");
                for (long o = 0; o < log.nextOffset(); o++)
                {
                    assertArrayEquals(mine.get(o).payload, log.read(o), "topic " + t + " offset " + o);
                }
            }
            final GroupCommitStats stats = rig.commit.stats();
            assertEquals(all.size(), stats.appends());
            assertEquals(0, stats.failed());
            assertTrue(stats.forces() >= 1 && stats.forces() <= all.size(), stats.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(ForceMode.class)
    void aFailingWriteFailsItsAppendsAndTheWorkerGoesOn(final ForceMode mode) throws Exception
    {
        final java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean();
        final SegmentChannels failing = file ->
        {
            final java.nio.channels.FileChannel real = SegmentChannels.FILES.open(file);
            return new DelegatingChannel(real)
            {
                @Override
                public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
                {
                    if (broken.get())
                    {
                        throw new IOException("disk full (injected)");
                    }
                    return super.write(srcs, offset, length);
                }
            };
        };
        try (AppendRig rig = new AppendRig(dir, 2, LogTesting.small().withChannels(failing),
            GroupCommitOptions.defaults(2).withForceMode(mode)))
        {
            final AppendRig.Append ok = new AppendRig.Append(0, new byte[] {1, 2, 3}, Ack.DURABLE);
            rig.submit(ok);
            awaitCompleted(rig, 1);
            broken.set(true);
            final AppendRig.Append bad = new AppendRig.Append(0, new byte[] {4}, Ack.DURABLE);
            rig.submit(bad);
            awaitCompleted(rig, 2);
            broken.set(false);
            final AppendRig.Append after = new AppendRig.Append(0, new byte[] {5}, Ack.NONE);
            rig.submit(after);
            final AppendRig.Append other = new AppendRig.Append(1, new byte[] {6}, Ack.DURABLE);
            rig.submit(other);
            awaitCompleted(rig, 4);
            assertEquals(0, ok.offset);
            assertNotNull(bad.error, "the failed write is reported to the listener");
            assertTrue(bad.error.getMessage().contains("disk full"), bad.error.toString());
            assertNull(bad.completionError, "the request itself went on to its next stage");
            assertNotNull(after.error, "the log refuses appends after a failed write until reopened");
            assertTrue(after.error.getMessage().contains("open it again"), after.error.getMessage());
            assertNull(other.error, "another log on the same worker is not affected");
            assertEquals(0, other.offset);
            assertEquals(2, rig.commit.stats().failed());
        }
        catch (IOException | IllegalStateException closeOfFailedLog)
        {
            // closing the failed log is allowed to complain; the assertions above are what count
        }
    }

    @Test
    void aThrowingListenerIsCountedAndTheRequestStillCompletes() throws Exception
    {
        final PartitionLog log = PartitionLog.open(dir.resolve("x"), LogTesting.small());
        final GroupCommit commit = new GroupCommit(GroupCommitOptions.defaults(1).withForceMode(ForceMode.WORKER));
        final AtomicReference<Throwable> completion = new AtomicReference<>(new Throwable("not completed"));
        final PipelineBuilder<String> b = Pipeline.builder();
        final StageRef<String> append = b.stage("append", Placement.inline());
        final StageRef<String> finish = b.stage("finish");
        final AppendListener throwing = new AppendListener()
        {
            @Override
            public void appended(final long offset)
            {
                throw new IllegalStateException("listener bug (expected by the test)");
            }

            @Override
            public void appendFailed(final Throwable error)
            {
            }
        };
        b.handle(append, (r, ctx) -> commit.append(ctx, log, ByteBuffer.wrap(r.getBytes()), Ack.DURABLE, throwing, finish));
        b.handle(finish, (r, ctx) -> Outcome.done());
        final Pipeline<String> p = b.workers(1).onComplete((r, e) -> completion.set(e)).build().start();
        p.submit("hello");
        p.shutdown(Duration.ofSeconds(10));
        commit.close();
        assertNull(completion.get());
        assertEquals(1, commit.stats().listenerErrors());
        assertEquals(1, log.nextOffset(), "the record was written");
        assertArrayEquals("hello".getBytes(), log.read(0));
        log.close();
    }

    @Test
    void misuseFailsFastWithAMessage() throws Exception
    {
        final PartitionLog log = PartitionLog.open(dir.resolve("y"), LogTesting.small());
        final GroupCommit commit = new GroupCommit(GroupCommitOptions.defaults(1));
        final AtomicReference<Throwable> completion = new AtomicReference<>();
        final PipelineBuilder<byte[]> b = Pipeline.builder();
        final StageRef<byte[]> append = b.stage("append", Placement.blocking(1));
        final StageRef<byte[]> finish = b.stage("finish");
        final AppendListener ignore = new AppendListener()
        {
            @Override
            public void appended(final long offset)
            {
            }

            @Override
            public void appendFailed(final Throwable error)
            {
            }
        };
        b.handle(append, (r, ctx) -> commit.append(ctx, log, ByteBuffer.wrap(r), Ack.NONE, ignore, finish));
        b.handle(finish, (r, ctx) -> Outcome.done());
        final Pipeline<byte[]> p = b.workers(1).onComplete((r, e) -> completion.set(e)).build().start();
        p.submit(new byte[1]);
        p.shutdown(Duration.ofSeconds(10));
        assertTrue(completion.get() instanceof IllegalStateException, String.valueOf(completion.get()));
        assertTrue(completion.get().getMessage().contains("blocking"), completion.get().getMessage());
        commit.close();
        assertThrows(IllegalArgumentException.class, () -> new GroupCommitOptions(0, ForceMode.WORKER, 1, 1, 1, 1));
        log.close();
    }

    /**
     * Finding (demo's DemoFatalErrorProcessTest): an OutOfMemoryError thrown by a write (a heap
     * buffer's temporary direct copy) was caught as the append's error, so the worker went on half
     * alive instead of failing the pipeline, whose fatal-error handler exits the server.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aFatalErrorWritingFailsThePipelineNotJustTheAppend(final boolean direct) throws Exception
    {
        final SegmentChannels fatal = file -> new DelegatingChannel(SegmentChannels.FILES.open(file))
        {
            @Override
            public int write(final ByteBuffer src) throws IOException
            {
                throw new OutOfMemoryError("injected by the test");
            }

            @Override
            public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
            {
                throw new OutOfMemoryError("injected by the test");
            }
        };
        final PartitionLog log = PartitionLog.open(dir.resolve("fatal"), LogTesting.small().withChannels(fatal));
        final GroupCommit commit = new GroupCommit(GroupCommitOptions.defaults(1).withForceMode(ForceMode.WORKER)
            .withStagingBytes(64));
        final AtomicReference<Throwable> fatalSeen = new AtomicReference<>();
        final java.util.concurrent.CountDownLatch failed = new java.util.concurrent.CountDownLatch(1);
        final AppendListener ignore = new AppendListener()
        {
            @Override
            public void appended(final long offset)
            {
            }

            @Override
            public void appendFailed(final Throwable error)
            {
            }
        };
        final PipelineBuilder<byte[]> b = Pipeline.builder();
        final StageRef<byte[]> append = b.stage("append");
        final StageRef<byte[]> finish = b.stage("finish");
        b.handle(append, (r, ctx) -> commit.append(ctx, log, ByteBuffer.wrap(r), Ack.DURABLE, ignore, finish));
        b.handle(finish, (r, ctx) -> Outcome.done());
        final Pipeline<byte[]> p = b.workers(1).onFatalError((name, thread, error) ->
        {
            fatalSeen.set(error);
            failed.countDown();
        }).build().start();
        p.submit(new byte[direct ? 100 : 10]); // over the 64-byte staging buffer: written at once from the caller's buffer
        assertTrue(failed.await(10, java.util.concurrent.TimeUnit.SECONDS), "the pipeline was told of the fatal error");
        assertTrue(fatalSeen.get() instanceof OutOfMemoryError, String.valueOf(fatalSeen.get()));
        p.shutdown(Duration.ofSeconds(10));
        commit.close();
        try
        {
            log.close();
        }
        catch (final IOException | IllegalStateException closingAFailedLog)
        {
            // the log failed on its write; the assertions above are what count
        }
    }

    static void awaitCompleted(final AppendRig rig, final int n) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (rig.completed.size() < n)
        {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + n + " completions");
            Thread.sleep(1);
        }
    }
}
