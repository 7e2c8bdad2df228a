package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash test of issue 13: the demo server, a child JVM, takes durable {@code POST /log}
 * appends from 16 keep-alive clients while the test kills it with SIGKILL at a random moment,
 * {@value #CRASHES} times in a row on the same data directory. After every restart: every
 * acknowledged record (a 201 was received) is at its acknowledged offset with its exact payload,
 * offsets are dense from 0, every record streamed passes its CRC-32C, every record present is one
 * a client sent (acknowledged or not) and none is there twice.
 *
 * <p>A kill keeps the page cache, so this shows recovery and the acknowledgement order, not that a
 * durable acknowledgement waits for the force: the framework's {@code PowerLossTest} shows that.
 */
class LogCrashProcessTest
{
    static final int CRASHES = 32;
    private static final int CLIENTS = 16;
    private static final String[] TOPICS = {"crash-a", "crash-b", "crash-c", "crash-d"};

    @TempDir
    Path root;

    /** Every payload a client sent, by its unique prefix ("r3-c7-s12;"). */
    private final Map<String, byte[]> sent = new ConcurrentHashMap<>();
    /** Per topic: acknowledged offset to payload. */
    private final Map<String, Map<Long, byte[]>> acknowledged = new ConcurrentHashMap<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    @Test
    @Timeout(300)
    void everyAcknowledgedAppendSurvivesRepeatedKillNine() throws Exception
    {
        for (final String t : TOPICS)
        {
            acknowledged.put(t, new ConcurrentHashMap<>());
        }
        final Path data = root.resolve("data");
        final String[] flags = {"--root", root.toString(), "--data-dir", data.toString(), "--log-segment-bytes", "32768"};
        final Random random = new Random(20261201L);
        final AtomicLong attempts = new AtomicLong();
        int truncations = 0;
        long verified = 0;
        final long started = System.nanoTime();
        for (int round = 0; round < CRASHES; round++)
        {
            try (ServerProcess server = ServerProcess.start(flags))
            {
                verified = verify(server.port(), round, random);
                final AtomicBoolean stop = new AtomicBoolean();
                final List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++)
                {
                    final int client = c;
                    final int r = round;
                    final int port = server.port();
                    clients.add(Thread.ofPlatform().start(() -> appendUntilKilled(port, r, client, stop, attempts)));
                }
                Thread.sleep(random.nextInt(round % 8 == 0 ? 20 : 400)); // some kills come right at the start
                server.kill();
                stop.set(true);
                for (final Thread t : clients)
                {
                    t.join(30_000);
                }
                assertTrue(failures.isEmpty(), "round " + round + ": " + failures);
                truncations += server.output().contains("truncating") ? 1 : 0; // LogRecovery cut a torn tail at a restart
            }
        }
        try (ServerProcess last = ServerProcess.start(flags))
        {
            verified = verify(last.port(), CRASHES, random);
            assertEquals(0, last.stop(), "a clean stop after all the crashes");
        }
        long acked = 0;
        for (final Map<Long, byte[]> m : acknowledged.values())
        {
            acked += m.size();
        }
        final String summary = "LogCrashProcessTest: " + CRASHES + " kill -9 crashes, " + attempts.get() + " appends sent by "
            + CLIENTS + " clients, " + acked + " acknowledged (durable 201), " + verified + " records present after the last"
            + " restart, " + truncations + " restarts truncated a torn tail, " + (System.nanoTime() - started) / 1_000_000 + " ms";
        System.out.println(summary);
        Files.writeString(Path.of("target", "log-crash-test.txt"), summary + "\n");
        assertTrue(acked > CRASHES, "the test acknowledged appends in most rounds: " + summary);
    }

    /** One client: POSTs until its connection dies with the server (or the test stops it). */
    private void appendUntilKilled(final int port, final int round, final int client, final AtomicBoolean stop,
        final AtomicLong attempts)
    {
        final Random random = new Random(round * 1000L + client);
        final String topic = TOPICS[client % TOPICS.length];
        try (DemoClient c = new DemoClient(port))
        {
            for (int seq = 0; !stop.get() && seq < 100_000; seq++)
            {
                final String prefix = "r" + round + "-c" + client + "-s" + seq + ";";
                final byte[] filler = new byte[random.nextInt(300)];
                random.nextBytes(filler);
                final byte[] p = concat(prefix.getBytes(StandardCharsets.US_ASCII), filler);
                sent.put(prefix, p);
                attempts.incrementAndGet();
                final RawHttp.Response r = c.request("POST", "/log/" + topic, p);
                if (r.status() != 201)
                {
                    failures.add(new AssertionError("POST answered " + r.status() + ": " + r.text()));
                    return;
                }
                final long offset = Long.parseLong(r.header("Log-Offset"));
                final byte[] earlier = acknowledged.get(topic).putIfAbsent(offset, p);
                if (earlier != null)
                {
                    failures.add(new AssertionError(topic + " offset " + offset + " acknowledged twice: first for "
                        + prefixOf(earlier) + ", then for " + prefix + " (the first was lost)"));
                    return;
                }
            }
        }
        catch (final IOException killed)
        {
            // the server was killed under this client: its last append may or may not be in the log
        }
    }

    /**
     * Reads every topic back (streamed with CRC checks, and a sample one by one) and checks it
     * against what was sent and acknowledged.
     *
     * @return records present over all topics
     */
    private long verify(final int port, final int round, final Random random) throws IOException
    {
        long present = 0;
        try (DemoClient c = new DemoClient(port))
        {
            for (final String topic : TOPICS)
            {
                final Map<Long, byte[]> acks = acknowledged.get(topic);
                final RawHttp.Response probe = c.get("/log/" + topic + "?from=0&max-bytes=1");
                if (probe.status() == 404)
                {
                    assertTrue(acks.isEmpty(), "round " + round + ": " + topic + " vanished with acknowledged records");
                    continue;
                }
                final List<LogFrames.Frame> frames = LogFrames.readTopic(c, topic, 0, 1 << 20); // dense, CRCs checked
                final Map<String, Boolean> seen = new ConcurrentHashMap<>();
                for (final LogFrames.Frame f : frames)
                {
                    final String prefix = prefixOf(f.payload());
                    final byte[] original = sent.get(prefix);
                    assertNotNull(original, "round " + round + ": " + topic + " offset " + f.offset() + " holds a record nobody sent");
                    assertArrayEquals(original, f.payload(), "round " + round + ": " + topic + " offset " + f.offset());
                    assertNull(seen.put(prefix, true), "round " + round + ": " + prefix + " is in " + topic + " twice");
                }
                for (final Map.Entry<Long, byte[]> e : acks.entrySet())
                {
                    assertTrue(e.getKey() < frames.size(), "round " + round + ": acknowledged " + topic + " offset " + e.getKey()
                        + " is gone; the log ends at " + frames.size());
                    assertArrayEquals(e.getValue(), frames.get((int)(long)e.getKey()).payload(),
                        "round " + round + ": acknowledged " + topic + " offset " + e.getKey());
                }
                final List<Long> offsets = new ArrayList<>(acks.keySet());
                for (int i = 0; i < Math.min(10, offsets.size()); i++)
                {
                    final long o = offsets.get(random.nextInt(offsets.size()));
                    final RawHttp.Response one = c.get("/log/" + topic + "/" + o);
                    assertEquals(200, one.status());
                    assertArrayEquals(acks.get(o), one.body(), "single read of " + topic + " offset " + o);
                }
                present += frames.size();
            }
        }
        return present;
    }

    private static String prefixOf(final byte[] payload)
    {
        int end = 0;
        while (end < payload.length && end < 40 && payload[end] != ';')
        {
            end++;
        }
        return new String(payload, 0, Math.min(end + 1, payload.length), StandardCharsets.US_ASCII);
    }

    private static byte[] concat(final byte[] a, final byte[] b)
    {
        final byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
