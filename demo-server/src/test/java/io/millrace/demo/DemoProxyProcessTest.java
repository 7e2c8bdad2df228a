package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo proxy as its own process, as a user runs it: started with {@code --upstream-file} and
 * no {@code --data-dir} (a proxy needs none), sent a real SIGHUP after the file changed, and
 * stopped with SIGTERM (exit 0).
 */
@Timeout(180)
class DemoProxyProcessTest
{
    @Test
    void sighupReReadsTheUpstreamFile(@TempDir final Path dir) throws Exception
    {
        try (TestUpstream a = new TestUpstream("a"); TestUpstream b = new TestUpstream("b"))
        {
            final Path file = dir.resolve("upstreams");
            Files.writeString(file, a.address() + "\n");
            try (ServerProcess server = ServerProcess.start("--upstream-file", file.toString(), "--balance", "least-conn"))
            {
                assertTrue(server.output().contains("a reverse proxy to [" + a.address() + "] by least-conn"), server.output());
                try (DemoClient c = new DemoClient(server.port()))
                {
                    assertEquals("a GET /one", new String(c.get("/one").body(), StandardCharsets.UTF_8));
                    Files.writeString(file, b.address() + "   # a leaves, b joins\n");
                    hangUp(server);
                    final long deadline = System.nanoTime() + 30_000_000_000L;
                    String metrics = "";
                    while (System.nanoTime() < deadline &&
                        !metrics.contains("millrace_upstream_info{upstream=\"" + b.address() + "\""))
                    {
                        Thread.sleep(20);
                        metrics = new String(c.get("/metrics").body(), StandardCharsets.UTF_8);
                    }
                    assertTrue(metrics.contains("millrace_upstream_info{upstream=\"" + b.address() + "\""),
                        "SIGHUP added b:\n" + metrics + "\n" + server.output());
                    for (int i = 0; i < 5; i++)
                    {
                        assertEquals("b GET /two", new String(c.get("/two").body(), StandardCharsets.UTF_8));
                    }
                    assertFalse(new String(c.get("/metrics").body(), StandardCharsets.UTF_8)
                        .contains("upstream=\"" + a.address() + "\""), "a drained and left (it was idle)");
                }
                assertTrue(server.output().contains("1 added, 0 changed, 0 unchanged, 1 draining"), server.output());
                assertEquals(0, server.stop(), "SIGTERM drains and exits 0:\n" + server.output());
            }
        }
    }

    private static void hangUp(final ServerProcess server) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(server.process.pid())).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue());
    }
}
