package io.millrace.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: the demo server as a child JVM on the test's class path, its output drained (and
 * kept) by a thread of its own, its port read from the banner. {@link #kill()} is
 * {@link Process#destroyForcibly()}, a SIGKILL on Linux: no shutdown hook, no clean close.
 */
final class ServerProcess implements AutoCloseable
{
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");

    final Process process;
    private final StringBuffer output = new StringBuffer();
    private final CompletableFuture<Integer> port = new CompletableFuture<>();

    private ServerProcess(final Process process)
    {
        this.process = process;
        final Thread drain = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                for (String line = in.readLine(); line != null; line = in.readLine())
                {
                    output.append(line).append('\n');
                    final Matcher m = LISTENING.matcher(line);
                    if (m.find())
                    {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            }
            catch (final IOException ignored)
            {
                // the process is gone
            }
            port.complete(-1);
        }, "server-output-" + process.pid());
        drain.setDaemon(true);
        drain.start();
    }

    /**
     * Starts {@code DemoServer} with {@code --port 0 --workers 2} and the given flags (no wait).
     */
    static ServerProcess launch(final String... flags) throws IOException
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), DemoServer.class.getName(), "--port", "0", "--workers", "2"));
        command.addAll(List.of(flags));
        return new ServerProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Starts the server and waits (up to 60 s) for its banner. */
    static ServerProcess start(final String... flags) throws Exception
    {
        final ServerProcess p = launch(flags);
        if (p.port() < 0)
        {
            p.kill();
            throw new AssertionError("the server did not start; its output:\n" + p.output());
        }
        return p;
    }

    /** @return the port from the banner, or -1 if the process ended without one */
    int port() throws Exception
    {
        return port.get(60, TimeUnit.SECONDS);
    }

    /** @return everything the process printed so far */
    String output()
    {
        return output.toString();
    }

    /** SIGKILL, and wait for the process to be gone. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            throw new AssertionError("the killed server did not exit");
        }
    }

    /** SIGTERM: drains and exits; @return the exit status */
    int stop() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError("the server did not exit within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** @return the exit status, waiting up to 30 s */
    int exitValue() throws InterruptedException
    {
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            throw new AssertionError("the server is still running");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            kill();
        }
    }
}
