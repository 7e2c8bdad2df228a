package io.millrace.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

import static io.millrace.log.LogTesting.appendRecords;
import static io.millrace.log.LogTesting.assertAllReadable;
import static io.millrace.log.LogTesting.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The data directory: its lock, the topic table and its cap, owners, retention, clean close. */
class LogDirectoryTest
{
    @TempDir
    Path dir;

    private static LogDirectoryOptions options(final int maxTopics)
    {
        return LogDirectoryOptions.defaults().withMaxTopics(maxTopics).withTopicOptions(small());
    }

    @Test
    void theLockRefusesASecondOpenUntilTheFirstIsClosed() throws Exception
    {
        final LogDirectory first = LogDirectory.open(dir, options(4));
        final DirectoryLockedException e = assertThrows(DirectoryLockedException.class,
            () -> LogDirectory.open(dir, options(4)));
        assertTrue(e.getMessage().contains(dir.toAbsolutePath().normalize().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("in use") && e.getMessage().contains("another data directory"), e.getMessage());
        assertEquals(dir.toAbsolutePath().normalize(), e.directory());
        assertTrue(Files.exists(dir.resolve(LogDirectory.LOCK_FILE)));
        first.close();
        first.close(); // idempotent
        try (LogDirectory again = LogDirectory.open(dir, options(4)))
        {
            assertEquals(0, again.topicCount());
        }
    }

    @Test
    void topicsAreCreatedOnFirstUseValidatedCappedAndCountedAgainAfterReopen() throws Exception
    {
        try (LogDirectory d = LogDirectory.open(dir, options(2)))
        {
            assertNull(d.existingTopic("nothing-here"), "a read of an unknown topic creates nothing");
            assertFalse(Files.exists(dir.resolve(LogDirectory.TOPICS).resolve("nothing-here")));
            final PartitionLog a = d.topic("orders");
            assertSame(a, d.topic("orders"));
            assertSame(a, d.existingTopic("orders"));
            a.append(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals(dir.toAbsolutePath().normalize().resolve("topics").resolve("orders"), a.directory());
            d.topic("clicks");
            assertEquals(2, d.topicCount());
            final TopicLimitException full = assertThrows(TopicLimitException.class, () -> d.topic("third"));
            assertTrue(full.getMessage().contains("'third'") && full.getMessage().contains("maximum of 2"), full.getMessage());
            assertEquals(2, full.limit());
            assertEquals(2, d.topicCount(), "a refused topic takes no place");
            for (final String bad : new String[] {"..", ".", "UPPER", "a/b", "", "x".repeat(65), "sp ace"})
            {
                final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.topic(bad), bad);
                assertTrue(e.getMessage().contains("a-z"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> d.existingTopic(bad), bad);
            }
        }
        Files.createDirectories(dir.resolve("topics").resolve("Not-A-Topic")); // ignored, not counted
        try (LogDirectory d = LogDirectory.open(dir, options(2)))
        {
            assertEquals(2, d.topicCount(), "the topics on disk count towards the cap");
            final PartitionLog a = d.existingTopic("orders");
            assertNotNull(a);
            assertTrue(a.recovery().clean(), "close left each log's clean-shutdown marker");
            assertEquals(1, a.nextOffset());
            assertThrows(TopicLimitException.class, () -> d.topic("third"));
        }
        try (LogDirectory d = LogDirectory.open(dir, options(3)))
        {
            d.topic("third");
            assertEquals(3, d.topicCount());
        }
    }

    @Test
    void aTopicBelongsToTheThreadThatOpenedItFirst() throws Exception
    {
        try (LogDirectory d = LogDirectory.open(dir, options(8)))
        {
            d.topic("mine");
            final ExecutionException e = assertThrows(ExecutionException.class,
                () -> CompletableFuture.supplyAsync(() -> call(() -> d.existingTopic("mine"))).get());
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("owned by thread " + Thread.currentThread().getName()),
                e.getCause().getMessage());
            // Another thread may own another topic at the same time.
            final PartitionLog theirs = CompletableFuture.supplyAsync(() -> call(() -> d.topic("theirs"))).get();
            assertNotNull(theirs);
            assertThrows(IllegalStateException.class, () -> d.topic("theirs"));
        }
    }

    @Test
    void retentionRunsOnTheCallersOwnTopicsAtMostOncePerInterval() throws Exception
    {
        final AtomicLong now = new AtomicLong(1_000_000);
        final LogDirectoryOptions o = LogDirectoryOptions.defaults().withRetentionCheckMillis(1000)
            .withTopicOptions(small().withRetentionBytes(2048).withClock(now::get));
        try (LogDirectory d = LogDirectory.open(dir, o))
        {
            final PartitionLog mine = d.topic("mine");
            appendRecords(mine, 400);
            final PartitionLog theirs = CompletableFuture.supplyAsync(() -> call(() ->
            {
                final PartitionLog t = d.topic("theirs");
                appendRecords(t, 400);
                return t;
            })).get();
            final int theirSegments = theirs.segmentCount();
            assertEquals(0, d.enforceRetention(), "checked less than an interval ago (at open)");
            now.addAndGet(1000);
            final int deleted = d.enforceRetention();
            assertTrue(deleted > 0);
            assertTrue(mine.startOffset() > 0);
            assertTrue(mine.sizeBytes() >= 2048 && mine.sizeBytes() < 2048 + 1024, "kept " + mine.sizeBytes());
            assertAllReadable(mine);
            assertEquals(theirSegments, theirs.segmentCount(), "another owner's topic is not touched");
            appendRecords(mine, 400);
            assertEquals(0, d.enforceRetention(), "not again within the interval");
            now.addAndGet(1000);
            assertTrue(d.enforceRetention() > 0);
        }
    }

    @Test
    void otherLogsLiveBesideTheTopicsUncountedAndAreClosedWithTheDirectory() throws Exception
    {
        final PartitionLog kv;
        try (LogDirectory d = LogDirectory.open(dir, options(1)))
        {
            kv = d.openLog("kv", small());
            appendRecords(kv, 10);
            assertEquals(0, d.topicCount());
            d.topic("only");
            assertThrows(IllegalArgumentException.class, () -> d.openLog("kv", small()), "opened once");
            assertThrows(IllegalArgumentException.class, () -> d.openLog("topics", small()));
            assertThrows(IllegalArgumentException.class, () -> d.openLog(".lock", small()));
            assertThrows(IllegalArgumentException.class, () -> d.openLog("../out", small()));
        }
        assertThrows(IllegalStateException.class, () -> kv.append(ByteBuffer.allocate(1)), "closed with the directory");
        try (LogDirectory d = LogDirectory.open(dir, options(1)))
        {
            final PartitionLog again = d.openLog("kv", small());
            assertTrue(again.recovery().clean());
            assertEquals(10, again.nextOffset());
            assertEquals(1, d.topicCount(), "the kv log is not a topic");
        }
        final LogDirectory closed = LogDirectory.open(dir, options(1));
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.topic("only"));
    }

    /** A checked call for CompletableFuture. */
    private interface IoCall<T>
    {
        T call() throws Exception;
    }

    private static <T> T call(final IoCall<T> c)
    {
        try
        {
            return c.call();
        }
        catch (final RuntimeException e)
        {
            throw e;
        }
        catch (final Exception e)
        {
            throw new RuntimeException(e);
        }
    }
}
