package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo server as a process: flags, and SIGTERM draining to exit status 0. */
class DemoServerProcessTest
{
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");

    @TempDir
    Path root;

    @Test
    void sigtermDrainsAndExitsZero() throws Exception
    {
        final Process server = start("--port", "0", "--workers", "2", "--root", root.toString(), "--data-dir",
            root.resolve("data").toString());
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            final String banner = out.readLine();
            final Matcher m = LISTENING.matcher(banner == null ? "" : banner);
            assertTrue(m.find(), "banner names the address: " + banner);
            final int port = Integer.parseInt(m.group(1));
            try (RawHttp busy = new RawHttp(port))
            {
                busy.send("GET /slow?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n");
                Thread.sleep(200); // in flight
                server.destroy(); // SIGTERM
                assertEquals(200, busy.read().status(), "the request in flight when SIGTERM came is answered");
            }
            assertTrue(server.waitFor(15, TimeUnit.SECONDS), "exits within the drain deadline");
            assertEquals(0, server.exitValue(), "SIGTERM is a clean exit");
        }
        finally
        {
            server.destroyForcibly();
        }
    }

    @Test
    void helpPrintsTheFlagsAndBadFlagsExitTwo() throws Exception
    {
        final Process help = start("--help");
        final String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(help.waitFor(15, TimeUnit.SECONDS));
        assertEquals(0, help.exitValue());
        for (final String flag : List.of("--address", "--port", "--workers", "--root", "--data-dir", "--max-topics",
            "--log-segment-bytes", "--log-retention-bytes", "--log-retention-ms", "--log-max-record-bytes", "--log-force",
            "--kv-compact-bytes"))
        {
            assertTrue(text.contains(flag), "--help lists " + flag);
        }
        final Process bad = start("--port", "eighty");
        final String err = new String(bad.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(15, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue());
        assertTrue(err.contains("--port needs a number"), err);
    }

    private static Process start(final String... args) throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new java.util.ArrayList<>(List.of(java,
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), DemoServer.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    }
}
