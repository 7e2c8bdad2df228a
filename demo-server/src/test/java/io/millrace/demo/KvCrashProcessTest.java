package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The /kv store survives kill -9: the demo server as a child JVM takes PUTs and DELETEs from 8
 * clients, each on keys of its own, while the test kills it at random moments and restarts it on
 * the same data directory. With a small compaction threshold the store is snapshotted and its
 * old log segments deleted many times, so restarts read a snapshot plus a log tail. After each
 * restart every key holds what its last acknowledged operation left (a PUT's value, or nothing
 * after a DELETE), or what the one operation in flight at the kill would have left.
 */
class KvCrashProcessTest
{
    private static final int CRASHES = 12;
    private static final int CLIENTS = 8;
    private static final int KEYS_PER_CLIENT = 16;

    @TempDir
    Path root;

    /** Per key: the state its last acknowledged operation left (null: absent) and the operation in flight. */
    private final byte[][] acknowledged = new byte[CLIENTS * KEYS_PER_CLIENT][];
    private final byte[][] inFlight = new byte[CLIENTS * KEYS_PER_CLIENT][];
    private final boolean[] hasInFlight = new boolean[CLIENTS * KEYS_PER_CLIENT];
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    @Test
    @Timeout(300)
    void acknowledgedPutsAndDeletesSurviveKillNineAcrossCompactions() throws Exception
    {
        final Path data = root.resolve("data");
        final String[] flags = {"--root", root.toString(), "--data-dir", data.toString(), "--kv-compact-bytes", "16384",
            "--log-segment-bytes", "8192"};
        final Random random = new Random(77);
        final AtomicLong acks = new AtomicLong();
        for (int round = 0; round <= CRASHES; round++)
        {
            try (ServerProcess server = ServerProcess.start(flags))
            {
                verify(server.port(), round);
                if (round == CRASHES)
                {
                    assertEquals(0, server.stop());
                    break;
                }
                final AtomicBoolean stop = new AtomicBoolean();
                final List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++)
                {
                    final int client = c;
                    final long seed = round * 100L + c;
                    final int port = server.port();
                    clients.add(Thread.ofPlatform().start(() -> mutateUntilKilled(port, client, seed, stop, acks)));
                }
                Thread.sleep(150 + random.nextInt(500));
                server.kill();
                stop.set(true);
                for (final Thread t : clients)
                {
                    t.join(30_000);
                }
                assertTrue(failures.isEmpty(), "round " + round + ": " + failures);
            }
        }
        assertTrue(Files.exists(data.resolve(KvSnapshot.FILE)), "the store was snapshotted");
        try (Stream<Path> files = Files.list(data.resolve(DurableKv.LOG_NAME)))
        {
            final long firstBase = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
                .mapToLong(n -> Long.parseLong(n.substring(0, 20))).min().orElse(0);
            assertTrue(firstBase > 0, "compaction deleted the log's old segments: it starts at " + firstBase);
        }
        final String summary = "KvCrashProcessTest: " + CRASHES + " kill -9 crashes, " + acks.get()
            + " acknowledged PUTs and DELETEs over " + acknowledged.length + " keys";
        System.out.println(summary);
        Files.writeString(Path.of("target", "kv-crash-test.txt"), summary + "\n");
        assertTrue(acks.get() > CRASHES * 10L, summary);
    }

    private void mutateUntilKilled(final int port, final int client, final long seed, final AtomicBoolean stop,
        final AtomicLong acks)
    {
        final Random random = new Random(seed);
        try (DemoClient c = new DemoClient(port))
        {
            while (!stop.get())
            {
                final int key = client * KEYS_PER_CLIENT + random.nextInt(KEYS_PER_CLIENT);
                final boolean delete = random.nextInt(3) == 0;
                final byte[] value = delete ? null : new byte[random.nextInt(600)];
                if (value != null)
                {
                    random.nextBytes(value);
                }
                inFlight[key] = value;
                hasInFlight[key] = true;
                final RawHttp.Response r = delete ? c.request("DELETE", "/kv/key" + key, null)
                    : c.request("PUT", "/kv/key" + key, value);
                final int expected = delete ? (acknowledged[key] == null ? 404 : 204) : (acknowledged[key] == null ? 201 : 204);
                if (r.status() != expected)
                {
                    failures.add(new AssertionError((delete ? "DELETE" : "PUT") + " key" + key + " answered " + r.status()
                        + ", expected " + expected + ": " + r.text()));
                    return;
                }
                acknowledged[key] = value;
                hasInFlight[key] = false;
                acks.incrementAndGet();
            }
        }
        catch (final IOException killed)
        {
            // the server was killed under this client: the operation in flight may or may not have happened
        }
    }

    /** Every key holds its acknowledged state or its in-flight one; the latter then becomes the acknowledged state. */
    private void verify(final int port, final int round) throws IOException
    {
        try (DemoClient c = new DemoClient(port))
        {
            for (int key = 0; key < acknowledged.length; key++)
            {
                final RawHttp.Response r = c.get("/kv/key" + key);
                assertTrue(r.status() == 200 || r.status() == 404, "round " + round + " key" + key + ": " + r.status());
                final byte[] found = r.status() == 200 ? r.body() : null;
                if (hasInFlight[key] && matches(inFlight[key], found) && !matches(acknowledged[key], found))
                {
                    acknowledged[key] = found; // the operation in flight at the kill had been made durable
                }
                if (acknowledged[key] == null)
                {
                    assertEquals(404, r.status(), "round " + round + ": key" + key + " was deleted (acknowledged)");
                }
                else
                {
                    assertEquals(200, r.status(), "round " + round + ": key" + key + " was stored (acknowledged)");
                    assertArrayEquals(acknowledged[key], found, "round " + round + ": key" + key);
                }
                hasInFlight[key] = false;
            }
        }
    }

    private static boolean matches(final byte[] expected, final byte[] found)
    {
        return expected == null ? found == null : found != null && java.util.Arrays.equals(expected, found);
    }
}
