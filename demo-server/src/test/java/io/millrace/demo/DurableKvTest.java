package io.millrace.demo;

import io.millrace.log.PartitionLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The durable /kv store in process: answers, restart, compaction, the budget under concurrency, damage refused. */
class DurableKvTest
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
            server = null;
        }
    }

    private DemoServerFixture start(final String... flags)
    {
        final List<String> all = new ArrayList<>(List.of("--data-dir", root.resolve("data").toString()));
        all.addAll(List.of(flags));
        server = new DemoServerFixture(root, all.toArray(new String[0]));
        return server;
    }

    private void restart(final String... flags)
    {
        server.close();
        server = null;
        start(flags);
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putsAndDeletesAreAnsweredOnceDurableAndSurviveARestart() throws Exception
    {
        start();
        try (DemoClient c = new DemoClient(server.port()))
        {
            assertEquals(201, c.request("PUT", "/kv/a", bytes("one")).status());
            assertEquals(204, c.request("PUT", "/kv/a", bytes("two")).status());
            assertEquals(201, c.request("PUT", "/kv/b", bytes("bee")).status());
            assertEquals(201, c.request("PUT", "/kv/empty", new byte[0]).status());
            assertEquals(204, c.request("DELETE", "/kv/b", null).status());
            assertEquals(404, c.request("DELETE", "/kv/b", null).status());
            assertEquals("two", c.get("/kv/a").text());
            assertEquals(404, c.get("/kv/b").status());
            assertEquals(404, c.get("/kv/" + "k".repeat(257)).status(), "a key over 256 bytes");
        }
        assertEquals(5, server.service.groupCommit().stats().appends(), "four PUTs and one DELETE were logged; the refused DELETE was not");
        restart();
        try (DemoClient c = new DemoClient(server.port()))
        {
            assertEquals("two", c.get("/kv/a").text());
            assertEquals(404, c.get("/kv/b").status());
            assertEquals(200, c.get("/kv/empty").status());
            assertEquals(0, c.get("/kv/empty").body().length);
        }
    }

    @Test
    @Timeout(120)
    void compactionSnapshotsTheStoreDeletesOldSegmentsAndTheRestartReadsBoth() throws Exception
    {
        final String[] flags = {"--kv-compact-bytes", "8192", "--log-segment-bytes", "4096"};
        start(flags);
        final Random random = new Random(5);
        final Map<String, byte[]> expected = new HashMap<>();
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int i = 0; i < 1500; i++)
            {
                final String key = "key" + random.nextInt(40);
                if (random.nextInt(4) == 0)
                {
                    final int status = c.request("DELETE", "/kv/" + key, null).status();
                    assertEquals(expected.remove(key) != null ? 204 : 404, status);
                }
                else
                {
                    final byte[] v = new byte[random.nextInt(200)];
                    random.nextBytes(v);
                    final int status = c.request("PUT", "/kv/" + key, v).status();
                    assertEquals(expected.put(key, v) == null ? 201 : 204, status);
                }
            }
        }
        server.close();
        final DurableKv kv = server.service.kv();
        assertTrue(kv.compactions() > 3, "compactions: " + kv.compactions());
        assertTrue(Files.exists(root.resolve("data").resolve(KvSnapshot.FILE)));
        final PartitionLog log = kv.log();
        assertTrue(log.startOffset() > 0, "old segments were deleted: the log starts at " + log.startOffset());
        assertTrue(log.sizeBytes() < 64 * 1024, "the log stays about a threshold long: " + log.sizeBytes());
        server = null;
        start(flags);
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int k = 0; k < 40; k++)
            {
                final RawHttp.Response r = c.get("/kv/key" + k);
                final byte[] v = expected.get("key" + k);
                assertEquals(v == null ? 404 : 200, r.status(), "key" + k);
                if (v != null)
                {
                    assertArrayEquals(v, r.body(), "key" + k);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void concurrentPutsWaitingForTheDiskNeverTakeTheStorePastItsBudget() throws Exception
    {
        start("--kv-max-mib", "1");
        final byte[] value = new byte[60 * 1024];
        final AtomicInteger stored = new AtomicInteger();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        final List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 8; t++)
        {
            final int id = t;
            clients.add(Thread.ofPlatform().start(() ->
            {
                try (DemoClient c = new DemoClient(server.port()))
                {
                    for (int i = 0; i < 6; i++)
                    {
                        final int status = c.request("PUT", "/kv/c" + id + "-" + i, value).status();
                        if (status == 201)
                        {
                            stored.incrementAndGet();
                        }
                        else if (status != 507)
                        {
                            failures.add(new AssertionError("PUT answered " + status));
                        }
                    }
                }
                catch (final Throwable e)
                {
                    failures.add(e);
                }
            }));
        }
        for (final Thread t : clients)
        {
            t.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
        assertTrue(stored.get() >= 10 && stored.get() < 48, "stored " + stored.get());
        server.close();
        final KvStore store = server.service.kv().store();
        server = null;
        assertEquals(stored.get(), store.size());
        assertTrue(store.bytes() <= 1 << 20, "the store holds " + store.bytes() + " bytes, over its 1 MiB");
    }

    @Test
    void aDamagedSnapshotOrAMissingOneStopsTheStartWithAMessage() throws Exception
    {
        final String[] flags = {"--kv-compact-bytes", "2048", "--log-segment-bytes", "4096"};
        start(flags);
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int i = 0; i < 300; i++)
            {
                assertTrue(c.request("PUT", "/kv/k" + i % 20, new byte[100]).status() / 100 == 2);
            }
        }
        server.close();
        server = null;
        final Path snapshot = root.resolve("data").resolve(KvSnapshot.FILE);
        final byte[] original = Files.readAllBytes(snapshot);
        try (FileChannel ch = FileChannel.open(snapshot, StandardOpenOption.WRITE))
        {
            ch.write(ByteBuffer.wrap(new byte[] {(byte)(original[40] ^ 1)}), 40);
        }
        final UncheckedIOException damaged = assertThrows(UncheckedIOException.class, () -> start(flags));
        assertTrue(damaged.getMessage().contains("damaged") && damaged.getMessage().contains("CRC"), damaged.getMessage());
        Files.delete(snapshot);
        final UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> start(flags));
        assertTrue(missing.getMessage().contains("there is no snapshot") && missing.getMessage().contains("missing"),
            missing.getMessage());
        Files.write(snapshot, original);
        start(flags);
        try (DemoClient c = new DemoClient(server.port()))
        {
            for (int k = 0; k < 20; k++)
            {
                assertEquals(100, c.get("/kv/k" + k).body().length, "k" + k);
            }
        }
    }
}
