package io.millrace.demo;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JFR recording made with the shipped settings ({@code docs/millrace.jfc}, every Millrace event
 * on) while the demo server answers requests over real sockets holds the Millrace events of its
 * {@code http} pipeline: the stage dispatches (threshold lowered to 0 so that fast ones count too),
 * the ring hops of {@code /kv} (to the key's partition owner) and {@code /slow} (back from the
 * blocking stage), the workers' parks, and the rejections of requests past the in-flight bound,
 * which the clients see as 503.
 */
@Timeout(60)
class JfrDemoServerTest
{
    @TempDir
    Path root;

    @Test
    void aRecordingOfTheDemoServerHoldsItsMillraceEvents() throws Exception
    {
        final Path file = root.resolve("demo.jfr");
        final int slowClients = 6;
        int served503 = 0;
        try (Recording recording = new Recording(Configuration.create(Path.of("../docs/millrace.jfc"))))
        {
            recording.enable("io.millrace.StageDispatch").withThreshold(Duration.ZERO);
            recording.start();
            try (DemoServerFixture server = new DemoServerFixture(root, "--max-in-flight", "2"))
            {
                // The kv store lives on one worker, and SO_REUSEPORT spreads connections by a hash
                // of their addresses: a connection per key puts some on the other worker with
                // certainty but 2^-24.
                for (int i = 0; i < 24; i++)
                {
                    try (RawHttp raw = new RawHttp(server.port()))
                    {
                        raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                        assertEquals(200, raw.read().status());
                        raw.send("GET /kv/key-" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
                        assertEquals(404, raw.read().status(), "no such key yet");
                    }
                }
                // Six clients ask for 300 ms of the blocking stage at once; two fit in flight.
                final List<RawHttp> clients = new ArrayList<>();
                try
                {
                    for (int i = 0; i < slowClients; i++)
                    {
                        final RawHttp c = new RawHttp(server.port());
                        clients.add(c);
                        c.send("GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
                    }
                    for (final RawHttp c : clients)
                    {
                        final int status = c.read().status();
                        assertTrue(status == 200 || status == 503, "served or refused for overload: " + status);
                        served503 += status == 503 ? 1 : 0;
                    }
                }
                finally
                {
                    for (final RawHttp c : clients)
                    {
                        c.close();
                    }
                }
            }
            recording.stop();
            recording.dump(file);
        }
        assertTrue(served503 >= 1, "past the bound of two, requests were refused");
        assertTrue(Files.size(file) > 0);

        final Map<String, List<RecordedEvent>> byName = RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().startsWith("io.millrace."))
            .filter(e -> !e.hasField("pipeline") || "http".equals(e.getString("pipeline")))
            .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
        assertTrue(byName.keySet().containsAll(Set.of("io.millrace.StageDispatch", "io.millrace.RingHop",
            "io.millrace.WorkerPark", "io.millrace.RequestRejected")), "found: " + byName.keySet());

        final Set<String> stages = byName.get("io.millrace.StageDispatch").stream().map(e -> e.getString("stage"))
            .collect(Collectors.toSet());
        assertTrue(stages.containsAll(Set.of("hello", "kv", "slow")), "dispatches of the routed stages: " + stages);
        final RecordedEvent slow = byName.get("io.millrace.StageDispatch").stream()
            .filter(e -> "slow".equals(e.getString("stage"))).findFirst().orElseThrow();
        assertEquals(-1, slow.getInt("worker"), "the blocking stage runs on its own threads");
        assertTrue(slow.getDuration().toMillis() >= 300, "the event spans the 300 ms call: " + slow.getDuration());

        final Set<String> hops = byName.get("io.millrace.RingHop").stream().map(e -> e.getString("kind") + ":" + e.getString("stage"))
            .collect(Collectors.toSet());
        assertTrue(hops.contains("resume:slow"), "the blocking stage's requests came home through a ring: " + hops);
        assertTrue(hops.contains("continue:kv"), "some of the 24 connections were on the worker that does not own the store: " + hops);

        assertEquals(served503, byName.get("io.millrace.RequestRejected").size(), "one event per 503 for overload");
        assertEquals("in-flight bound", byName.get("io.millrace.RequestRejected").get(0).getString("reason"));
    }
}
