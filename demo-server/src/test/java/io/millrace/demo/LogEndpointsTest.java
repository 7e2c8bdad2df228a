package io.millrace.demo;

import io.millrace.log.GroupCommitStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /log/{topic}} over real sockets: appends, single reads, streamed ranges, names, caps, retention, restart. */
class LogEndpointsTest
{
    @TempDir
    Path root;

    private DemoServerFixture server;

    @AfterEach
    void stop()
    {
        if (server != null)
        {
            server.close();
            assertEquals(0, server.chunksInUse(), "every pooled chunk is back");
            server = null;
        }
    }

    private static byte[] payload(final Random random, final int max)
    {
        final byte[] b = new byte[random.nextInt(max + 1)];
        random.nextBytes(b);
        return b;
    }

    private static long offsetOf(final RawHttp.Response r)
    {
        assertEquals(201, r.status(), r.text());
        final long offset = Long.parseLong(r.header("Log-Offset"));
        assertEquals(offset, Long.parseLong(r.text().trim()), "the body is the offset too");
        return offset;
    }

    @Test
    @Timeout(60)
    void appendsAreAcknowledgedWithDenseOffsetsAndReadBackOneByOneAndStreamed() throws Exception
    {
        server = new DemoServerFixture(root, "--log-segment-bytes", "4096");
        final Random random = new Random(13);
        final List<byte[]> sent = new ArrayList<>();
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int i = 0; i < 300; i++)
            {
                final byte[] p = payload(random, 200);
                sent.add(p);
                assertEquals(i, offsetOf(c.request("POST", "/log/orders", p)));
                if (i % 100 == 0)
                {
                    assertEquals(i / 100, offsetOf(c.request("POST", "/log/clicks", p)), "each topic has its own offsets");
                }
            }
            for (int i = 0; i < 300; i++)
            {
                final RawHttp.Response r = c.get("/log/orders/" + i);
                assertEquals(200, r.status());
                assertArrayEquals(sent.get(i), r.body(), "offset " + i);
            }
            assertEquals(404, c.get("/log/orders/300").status(), "beyond the end");
            assertEquals(404, c.get("/log/nothing-here/0").status(), "unknown topic");
            assertEquals(404, c.get("/log/nothing-here").status());

            final RawHttp.Response first = c.get("/log/orders?from=0");
            assertEquals(200, first.status());
            final List<LogFrames.Frame> firstFrames = LogFrames.parse(first.body(), 0);
            assertTrue(first.body().length <= 4096, "one range stays in one 4 KiB segment: " + first.body().length);
            assertEquals(firstFrames.size(), Long.parseLong(first.header("Log-Next-Offset")));
            assertEquals(1, LogFrames.parse(c.get("/log/orders?from=7&max-bytes=1").body(), 7).size(),
                "at least one whole record, however small the budget");

            final List<LogFrames.Frame> all = LogFrames.readTopic(c, "orders", 0, 1000);
            assertEquals(300, all.size());
            for (int i = 0; i < 300; i++)
            {
                assertArrayEquals(sent.get(i), all.get(i).payload(), "streamed offset " + i);
            }
            final RawHttp.Response end = c.get("/log/orders?from=300");
            assertEquals(200, end.status());
            assertEquals(0, end.body().length, "at the end: an empty body");
            assertEquals("300", end.header("Log-Next-Offset"));
            final RawHttp.Response head = c.request("HEAD", "/log/orders?from=0", null);
            assertEquals(200, head.status());
            assertEquals(first.header("Content-Length"), head.header("Content-Length"));
            final String metrics = c.get("/metrics").text();
            io.millrace.demo.http.ExpositionGrammar.assertValid(metrics);
            assertTrue(metrics.contains("\nmillrace_log_appends_total 303\n"), "the group commit's counters are exported");
            assertTrue(metrics.contains("\nmillrace_log_topics 2\n"), metrics);
        }
        final GroupCommitStats stats = server.service.groupCommit().stats();
        assertEquals(303, stats.appends());
        assertEquals(0, stats.failed());
        assertTrue(stats.forces() >= 1, stats.toString());
    }

    @Test
    void badNamesOffsetsAndQueriesAre400AndOutOfRangeStreamsAre416() throws Exception
    {
        server = new DemoServerFixture(root);
        try (DemoClient c = new DemoClient(server.port()))
        {
            offsetOf(c.request("POST", "/log/orders", "x".getBytes(StandardCharsets.US_ASCII)));
            for (final String bad : List.of("UPPER", "a%2fb", "sp%20ace", "x".repeat(65), "a~b", "%2e%2e"))
            {
                final RawHttp.Response r = c.request("POST", "/log/" + bad, new byte[] {1});
                assertEquals(400, r.status(), bad + ": " + r.text());
                assertTrue(r.text().contains("a-z, 0-9"), r.text());
                assertEquals(400, c.get("/log/" + bad + "/0").status(), bad);
            }
            assertEquals(400, c.request("POST", "/log/", new byte[] {1}).status(), "an empty topic name");
            assertEquals(400, c.request("POST", "/log/orders/5", new byte[] {1}).status(), "POST takes no offset");
            for (final String bad : List.of("/log/orders/abc", "/log/orders/-1", "/log/orders/1/2", "/log/orders/",
                "/log/orders/1234567890123456789", "/log/orders?from=x", "/log/orders?from=-1", "/log/orders?max-bytes=0",
                "/log/orders?from=0&max-bytes=lots"))
            {
                assertEquals(400, c.get(bad).status(), bad);
            }
            final RawHttp.Response beyond = c.get("/log/orders?from=5");
            assertEquals(416, beyond.status(), beyond.text());
            assertEquals("0", beyond.header("Log-Start-Offset"));
            assertEquals("1", beyond.header("Log-End-Offset"));
            assertEquals(200, c.get("/log/orders?from=0&other=ignored").status(), "other parameters are ignored");
        }
        assertTrue(server.service.directory().topicCount() == 1, "no refused request created a topic");
    }

    @Test
    void theTopicCapIs507AndARecordOverTheMaximumIs413() throws Exception
    {
        server = new DemoServerFixture(root, "--max-topics", "2", "--log-max-record-bytes", "1000");
        try (DemoClient c = new DemoClient(server.port()))
        {
            assertEquals(0, offsetOf(c.request("POST", "/log/a", new byte[] {1})));
            assertEquals(0, offsetOf(c.request("POST", "/log/b", new byte[] {2})));
            final RawHttp.Response full = c.request("POST", "/log/c", new byte[] {3});
            assertEquals(507, full.status());
            assertTrue(full.text().contains("maximum of 2 topics"), full.text());
            assertEquals(404, c.get("/log/c").status(), "the refused topic does not exist");
            assertEquals(1, offsetOf(c.request("POST", "/log/a", new byte[] {4})), "existing topics go on");
            final RawHttp.Response big = c.request("POST", "/log/a", new byte[1001]);
            assertEquals(413, big.status());
            assertTrue(big.text().contains("1000 bytes"), big.text());
            assertEquals(2, offsetOf(c.request("POST", "/log/a", new byte[1000])), "exactly the maximum is accepted");
            assertEquals(0, offsetOf(c.request("POST", "/log/b", new byte[0])) - 1, "an empty record is a record");
        }
    }

    @Test
    @Timeout(60)
    void concurrentClientsWithBodiesOfManyChunksGetDenseUniqueOffsets() throws Exception
    {
        server = new DemoServerFixture(root, "--log-segment-bytes", "65536", "--log-max-record-bytes", "65536");
        final String[] topics = {"t0", "t1", "t2"};
        final Map<String, Map<Long, byte[]>> acknowledged = new ConcurrentHashMap<>();
        for (final String t : topics)
        {
            acknowledged.put(t, new ConcurrentHashMap<>());
        }
        final List<Thread> clients = new ArrayList<>();
        final List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int k = 0; k < 8; k++)
        {
            final int id = k;
            clients.add(Thread.ofPlatform().start(() ->
            {
                final Random random = new Random(id);
                try (DemoClient c = new DemoClient(server.port()))
                {
                    for (int i = 0; i < 60; i++)
                    {
                        final String topic = topics[random.nextInt(topics.length)];
                        // One in ten bodies spans several 16 KiB chunks: copied into the worker's scratch buffer.
                        final byte[] p = payload(random, i % 10 == 3 ? 65536 : 300);
                        final byte[] clash = acknowledged.get(topic).put(offsetOf(c.request("POST", "/log/" + topic, p)), p);
                        assertNull(clash, "two appends acknowledged at one offset of " + topic);
                    }
                }
                catch (final Throwable t)
                {
                    failures.add(t);
                }
            }));
        }
        for (final Thread t : clients)
        {
            t.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
        try (DemoClient c = new DemoClient(server.port()))
        {
            int total = 0;
            for (final String t : topics)
            {
                final List<LogFrames.Frame> frames = LogFrames.readTopic(c, t, 0, 100_000);
                final Map<Long, byte[]> mine = acknowledged.get(t);
                assertEquals(mine.size(), frames.size(), "offsets of " + t + " are dense: every record was acknowledged");
                for (final LogFrames.Frame f : frames)
                {
                    assertArrayEquals(mine.get(f.offset()), f.payload(), t + " offset " + f.offset());
                }
                total += frames.size();
            }
            assertEquals(480, total);
        }
    }

    @Test
    @Timeout(60)
    void retentionDeletesOldSegmentsThenOldOffsetsAre404AndStreamsFromThemAre416() throws Exception
    {
        server = new DemoServerFixture(root, "--log-segment-bytes", "4096", "--log-retention-bytes", "8192");
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int i = 0; i < 400; i++)
            {
                offsetOf(c.request("POST", "/log/short", new byte[100]));
            }
            // Each owner runs retention on a one-second timer; wait for it (bounded).
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (c.get("/log/short/0").status() == 200 && System.nanoTime() < deadline)
            {
                Thread.sleep(100);
            }
            assertEquals(404, c.get("/log/short/0").status(), "offset 0 was deleted by retention");
            final RawHttp.Response below = c.get("/log/short?from=0");
            assertEquals(416, below.status());
            assertTrue(below.text().contains("retention"), below.text());
            final long start = Long.parseLong(below.header("Log-Start-Offset"));
            assertTrue(start > 0 && start < 400, "start " + start);
            assertEquals("400", below.header("Log-End-Offset"));
            final List<LogFrames.Frame> kept = LogFrames.readTopic(c, "short", start, 1 << 20);
            assertEquals(400 - start, kept.size());
            assertTrue(kept.size() * 116L >= 8192, "at least the retention limit is kept: " + kept.size() + " records");
            assertEquals(200, c.get("/log/short/" + start).status());
            assertEquals(400, offsetOf(c.request("POST", "/log/short", new byte[1])), "appends go on at the end");
        }
    }

    @Test
    void logsSurviveACleanRestartAndTheDataDirectoryIsLockedWhileInUse() throws Exception
    {
        final Path data = root.resolve("data");
        final byte[] p = "kept across a restart".getBytes(StandardCharsets.UTF_8);
        server = new DemoServerFixture(root, "--data-dir", data.toString());
        try (DemoClient c = new DemoClient(server.port()))
        {
            assertEquals(0, offsetOf(c.request("POST", "/log/keep", p)));
        }
        final UncheckedIOException locked = assertThrows(UncheckedIOException.class,
            () -> new DemoServerFixture(root, "--data-dir", data.toString()));
        assertTrue(locked.getMessage().contains(data.toAbsolutePath().normalize().toString())
            && locked.getMessage().contains("in use") && locked.getMessage().contains("--data-dir"), locked.getMessage());
        server.close();
        server = new DemoServerFixture(root, "--data-dir", data.toString());
        try (DemoClient c = new DemoClient(server.port()))
        {
            final RawHttp.Response r = c.get("/log/keep/0");
            assertEquals(200, r.status());
            assertArrayEquals(p, r.body());
            assertEquals(1, offsetOf(c.request("POST", "/log/keep", p)));
        }
        assertNotNull(server.service.directory());
    }
}
