package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The hostile clients of the HTTP issue against the demo as a process with a 256 MiB heap: heads
 * that announce 1 MiB bodies (by Content-Length, and by a chunk-size line) and send nothing more,
 * thousands of them held open, then bodies streamed slowly past the body budget. The server must
 * stay alive, keep answering a fresh {@code GET /hello}, keep its heap far from the limit, and
 * refuse the bodies over the budget with 503 and Retry-After.
 *
 * <p>The request and idle timeouts are raised so that every hostile connection is still held when
 * the heap is measured: the worst case for memory (cutting them off is the request timeout's job,
 * tested elsewhere). Everything else is the demo's default: 64 MiB of buffers, a 32 MiB body
 * budget, 1 MiB bodies, 10,000 connections.
 */
class HostileClientsProcessTest
{
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
    private static final long HEAP_BOUND_MIB = 200;
    private static final int WANTED_PER_KIND = 3_000;
    private static final int WANTED_STREAMING = 1_000;
    private static final int STREAMED_BYTES = 64 * 1024;
    private static final int PIECE = 4 * 1024;

    @TempDir
    Path root;

    private final StringBuffer output = new StringBuffer();

    @Test
    @Timeout(600)
    void thousandsOfHeadsThatAnnounceBigBodiesAndBodiesPastTheBudgetLeaveTheServerServing() throws Exception
    {
        // File descriptors: this JVM holds every client socket, the server every connection.
        final long fds = openFileLimit();
        final int perKind = (int)Math.min(WANTED_PER_KIND, (fds - 1_500) * 2 / 5);
        final int streaming = (int)Math.min(WANTED_STREAMING, Math.max(0, fds - 1_500 - 2L * perKind));
        assumeTrue(perKind >= 500 && streaming >= 600, "needs about 8,500 file descriptors, the limit is " + fds);

        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process server = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:-HeapDumpOnOutOfMemoryError",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), DemoServer.class.getName(),
            "--port", "0", "--workers", "2", "--root", root.toString(), "--data-dir", root.resolve("data").toString(),
            "--request-timeout-ms", "600000", "--idle-timeout-ms", "600000"))
            .redirectErrorStream(true).start();
        final List<Closeable> held = new ArrayList<>();
        try
        {
            final int port = port(server);
            final long pid = server.pid();

            // 1. Heads announcing 1 MiB by Content-Length, then nothing.
            final byte[] lengthHead = "PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
            hold(server, port, held, perKind, lengthHead);
            // 2. Chunked heads whose first chunk announces 1 MiB - 1, then nothing.
            final byte[] chunkedHead = "PUT /kv/k HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n"
                .getBytes(StandardCharsets.US_ASCII);
            hold(server, port, held, perKind, chunkedHead);
            final long openHostile = 2L * perKind;
            awaitMetric(port, "millrace_transport_read_bytes_total", perKind * (long)(lengthHead.length + chunkedHead.length),
                "the server read every hostile head");
            final String metrics = metrics(port);
            assertTrue(metric(metrics, "millrace_connections_open") >= openHostile,
                "all " + openHostile + " hostile connections are held open:\n" + metrics);
            assertEquals(0, metric(metrics, "millrace_http_body_bytes_held"), "no body byte arrived, none is charged");
            final long heapAfterHeads = heapUsedAfterGc(java, pid);
            System.out.printf("HostileClientsProcessTest: %d connections holding 1 MiB heads: heap used %.1f MiB after a GC%n",
                openHostile, heapAfterHeads / 1048576.0);
            assertTrue(heapAfterHeads < HEAP_BOUND_MIB << 20, "heap used after a GC with " + openHostile +
                " hostile connections: " + (heapAfterHeads >> 20) + " MiB, bound " + HEAP_BOUND_MIB + " MiB");
            assertHello(server, port);

            // 3. Bodies that do stream, slowly: 64 KiB on each connection, 4 KiB a turn, more than
            //    the 32 MiB body budget together. The ones past it get 503 with Retry-After.
            final List<RawHttp> bodies = new ArrayList<>();
            for (int i = 0; i < streaming; i++)
            {
                final RawHttp c = new RawHttp(port);
                held.add(c.socket);
                bodies.add(c);
                c.send("PUT /kv/b" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n");
            }
            final byte[] piece = new byte[PIECE];
            final boolean[] over = new boolean[streaming];
            int refusedSeen = 0;
            int resets = 0;
            for (int round = 0; round < STREAMED_BYTES / PIECE; round++)
            {
                for (int i = 0; i < streaming; i++)
                {
                    if (over[i])
                    {
                        continue;
                    }
                    final RawHttp c = bodies.get(i);
                    try
                    {
                        if (c.socket.getInputStream().available() > 0)
                        {
                            // Answered before its body was whole: the budget refused it.
                            over[i] = true;
                            refusedSeen += assertRefused(c.read()) ? 1 : 0;
                            continue;
                        }
                        c.socket.getOutputStream().write(piece);
                    }
                    catch (final IOException resetByTheServerAfterItsAnswer)
                    {
                        over[i] = true;
                        resets++;
                    }
                }
                if (round % 4 == 3)
                {
                    assertHello(server, port);
                }
            }
            final long refusals = awaitMetric(port, "millrace_http_body_budget_refusals_total", 1,
                "the body budget refused some bodies");
            // Answers that came after the last turn.
            for (int i = 0; i < streaming; i++)
            {
                final RawHttp c = bodies.get(i);
                try
                {
                    if (!over[i] && c.socket.getInputStream().available() > 0)
                    {
                        over[i] = true;
                        refusedSeen += assertRefused(c.read()) ? 1 : 0;
                    }
                }
                catch (final IOException reset)
                {
                    resets++;
                }
            }
            final String after = metrics(port);
            final long heldBytes = metric(after, "millrace_http_body_bytes_held");
            System.out.printf("HostileClientsProcessTest: %d bodies of 64 KiB streamed: %d refused by the budget (%d 503s read " +
                "by clients, %d resets), %.1f MiB held, budget %.0f MiB%n", streaming, refusals, refusedSeen, resets,
                heldBytes / 1048576.0, metric(after, "millrace_http_body_bytes_limit") / 1048576.0);
            assertTrue(refusedSeen > 0, "clients read 503 with Retry-After; the server refused " + refusals + ", resets " + resets);
            assertTrue(heldBytes <= metric(after, "millrace_http_body_bytes_limit"), "the budget held: " + heldBytes);
            assertTrue(heldBytes > 0, "the bodies under the budget are still held, waiting for the rest");
            assertHello(server, port);
            final long heapAtEnd = heapUsedAfterGc(java, pid);
            System.out.printf("HostileClientsProcessTest: at the end (%d connections): heap used %.1f MiB after a GC%n",
                openHostile + streaming, heapAtEnd / 1048576.0);
            assertTrue(heapAtEnd < HEAP_BOUND_MIB << 20, "heap used after a GC at the end: " + (heapAtEnd >> 20) + " MiB");
            assertTrue(server.isAlive(), "the server is alive\n" + tail());
        }
        finally
        {
            for (final Closeable c : held)
            {
                try
                {
                    c.close();
                }
                catch (final IOException ignored)
                {
                    // closing a test client
                }
            }
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static boolean assertRefused(final RawHttp.Response r)
    {
        assertEquals(503, r.status(), "a body answered before it was whole was refused by the budget: " + r.text());
        assertNotNull(r.header("retry-after"), "a 503 for the budget says when to retry");
        return true;
    }

    /** Opens {@code count} connections that send {@code head} and nothing more; checks /hello every 500. */
    private void hold(final Process server, final int port, final List<Closeable> held, final int count, final byte[] head)
        throws Exception
    {
        for (int i = 0; i < count; i++)
        {
            final Socket s = new Socket();
            held.add(s);
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.getOutputStream().write(head);
            if (i % 500 == 499)
            {
                assertHello(server, port);
            }
        }
    }

    private void assertHello(final Process server, final int port) throws Exception
    {
        assertTrue(server.isAlive(), "the server process is alive\n" + tail());
        try (RawHttp fresh = new RawHttp(port))
        {
            fresh.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response r = fresh.read();
            assertEquals(200, r.status(), "a fresh client is served\n" + tail());
            assertEquals("Hello, World!\n", r.text());
        }
    }

    /** @return the heap used after a full GC, in bytes, from {@code jcmd} (the sum over heap lines, not metaspace) */
    private static long heapUsedAfterGc(final String java, final long pid) throws Exception
    {
        final Path jcmd = Path.of(java).resolveSibling("jcmd");
        run(jcmd.toString(), Long.toString(pid), "GC.run");
        final String info = run(jcmd.toString(), Long.toString(pid), "GC.heap_info");
        long usedKiB = 0;
        int lines = 0;
        for (final String line : info.split("\n"))
        {
            final Matcher m = HEAP_USED.matcher(line);
            if (line.contains("total") && !line.contains("Metaspace") && !line.contains("class space") && m.find())
            {
                usedKiB += Long.parseLong(m.group(1));
                lines++;
            }
        }
        assertTrue(lines > 0, "jcmd GC.heap_info gave no heap line:\n" + info);
        return usedKiB << 10;
    }

    private static String run(final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private static String metrics(final int port) throws IOException
    {
        try (RawHttp raw = new RawHttp(port))
        {
            raw.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            return r.text();
        }
    }

    private static long metric(final String metrics, final String name)
    {
        for (final String line : metrics.split("\n"))
        {
            if (line.startsWith(name + " "))
            {
                return (long)Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no metric " + name + " in:\n" + metrics);
    }

    /** Polls /metrics until {@code name} reaches {@code target} (at most 60 s); returns its value. */
    private static long awaitMetric(final int port, final String name, final long target, final String what) throws Exception
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long value;
        while ((value = metric(metrics(port), name)) < target)
        {
            assertTrue(System.nanoTime() < deadline, what + ": " + name + " is " + value + ", want " + target);
            Thread.sleep(50);
        }
        return value;
    }

    private int port(final Process server) throws IOException
    {
        final BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String banner = out.readLine();
        for (int skipped = 0; banner != null && !LISTENING.matcher(banner).find() && skipped < 20; skipped++)
        {
            banner = out.readLine(); // start-up log lines (the /kv store's rebuild) come before the banner
        }
        final Matcher m = LISTENING.matcher(banner == null ? "" : banner);
        assertTrue(m.find(), "banner names the address: " + banner);
        // Drain the rest of the output so that the server never blocks on a full pipe; keep it for failures.
        final Thread drain = new Thread(() ->
        {
            try
            {
                for (String line = out.readLine(); line != null; line = out.readLine())
                {
                    output.append(line).append('\n');
                    if (output.length() > 64_000)
                    {
                        output.delete(0, output.length() - 32_000);
                    }
                }
            }
            catch (final IOException closed)
            {
                // the process is gone
            }
        }, "server-output");
        drain.setDaemon(true);
        drain.start();
        return Integer.parseInt(m.group(1));
    }

    private String tail()
    {
        final String log = output.toString();
        return "server output (tail):\n" + (log.length() <= 4_000 ? log : log.substring(log.length() - 4_000));
    }

    /** @return this process's soft limit on open files, from /proc (Linux), or a guess of 4096 */
    private static long openFileLimit()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/limits")))
            {
                if (line.startsWith("Max open files"))
                {
                    final String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE / 4 : Long.parseLong(soft);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // not Linux
        }
        return 4_096;
    }
}
