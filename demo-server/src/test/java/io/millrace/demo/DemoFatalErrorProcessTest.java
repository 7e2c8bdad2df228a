package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An OutOfMemoryError in a worker used to leave the demo half alive: its port open, never
 * answering, deaf to SIGTERM. Now the pipeline fails and the process exits with status 70, so that a
 * supervisor restarts it. The OOM is a real one, made by the hostile client of the HTTP issue (a
 * header announcing a 1 MiB body, which the demo still reserves up front) against a 48 MiB heap, with
 * no {@code -XX:+ExitOnOutOfMemoryError} so that the runtime's own handling is what is tested.
 */
class DemoFatalErrorProcessTest
{
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");

    @TempDir
    Path root;

    @Test
    @Timeout(120)
    void anOutOfMemoryErrorInAWorkerMakesTheServerExitWithStatus70() throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process server = new ProcessBuilder(List.of(java, "-Xmx48m", "-XX:-HeapDumpOnOutOfMemoryError",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), DemoServer.class.getName(),
            "--port", "0", "--workers", "2", "--root", root.toString(), "--kv-max-mib", "4096",
            "--data-dir", root.resolve("data").toString()))
            .redirectErrorStream(true).start();
        final List<Socket> hostile = new ArrayList<>();
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String banner = out.readLine();
            for (int skipped = 0; banner != null && !LISTENING.matcher(banner).find() && skipped < 20; skipped++)
            {
                banner = out.readLine(); // start-up log lines (the /kv store's rebuild) come before the banner
            }
            final Matcher m = LISTENING.matcher(banner == null ? "" : banner);
            assertTrue(m.find(), "banner names the address: " + banner);
            final int port = Integer.parseInt(m.group(1));
            // Drain the server's output as it comes: a full pipe would block its logging threads and
            // look like a hang.
            final StringBuffer printed = new StringBuffer();
            final Thread drain = new Thread(() ->
            {
                try
                {
                    for (String line = out.readLine(); line != null; line = out.readLine())
                    {
                        printed.append(line).append('\n');
                    }
                }
                catch (final java.io.IOException gone)
                {
                    // the process ended
                }
            }, "server-output");
            drain.setDaemon(true);
            drain.start();
            // Request bodies no longer cost the heap what they announce, so the OOM comes the honest
            // way: a store told it may hold 4 GiB of values in a 48 MiB heap. At most 200 PUTs of
            // 1 MiB (bounded), stopping as soon as the server is gone.
            final byte[] value = new byte[1 << 20];
            final long loopEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int i = 0; i < 200 && server.isAlive() && System.nanoTime() < loopEnd; i++)
            {
                try
                {
                    final Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
                    hostile.add(s);
                    final OutputStream o = s.getOutputStream();
                    o.write(("PUT /kv/k" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + value.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                    o.write(value);
                    o.flush();
                    s.setSoTimeout(5_000);
                    s.getInputStream().read(); // the 201 (or nothing, once the server is gone)
                }
                catch (final java.io.IOException refusedOrReset)
                {
                    Thread.sleep(5); // the server going away under us is what we wait for
                }
            }
            final boolean exited = server.waitFor(30, TimeUnit.SECONDS);
            if (!exited)
            {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            drain.join(10_000);
            final String log = printed.toString();
            assertTrue(exited, "the server exited instead of lingering half alive; it printed:\n" + tail(log));
            assertEquals(DemoServer.EXIT_FATAL, server.exitValue(), "exit status after a fatal error; output:\n" + tail(log));
            assertTrue(log.contains("fatal error"), tail(log));
        }
        finally
        {
            for (final Socket s : hostile)
            {
                s.close();
            }
            server.destroyForcibly();
        }
    }

    private static String tail(final String log)
    {
        return log.length() <= 4_000 ? log : log.substring(log.length() - 4_000);
    }
}
