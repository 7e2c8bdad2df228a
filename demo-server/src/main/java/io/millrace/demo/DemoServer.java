package io.millrace.demo;

import io.millrace.ShutdownReport;
import io.millrace.memory.LeakDetector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The demo server's entry point: parses flags, starts {@link HttpService}, and on SIGTERM or
 * Ctrl-C stops accepting, drains requests in flight for up to {@link #DRAIN_DEADLINE} and exits 0.
 */
public final class DemoServer
{
    /**
     * Exit status after a fatal error (out of memory, an internal VM error) in a pipeline thread:
     * the process exits at once instead of serving on half alive, so that a supervisor restarts it.
     * 70 is sysexits' EX_SOFTWARE.
     */
    static final int EXIT_FATAL = 70;

    /*
     * The fatal-error message, encoded up front and written straight to file descriptor 2: when the
     * heap is exhausted even System.err.print allocates (its encoder wraps the chars in a CharBuffer)
     * and would fail without a word.
     */
    private static final byte[] FATAL_PREFIX = "demo-server: fatal error in ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FATAL_SUFFIX = ("; exiting with status " + EXIT_FATAL +
        " so that a supervisor can restart the server\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UNNAMED = "a pipeline thread".getBytes(StandardCharsets.US_ASCII);
    private static final FileOutputStream STDERR = new FileOutputStream(FileDescriptor.err);

    /** How long a shutdown may drain. */
    public static final Duration DRAIN_DEADLINE = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(DemoServer.class);

    private DemoServer()
    {
    }

    /**
     * @param args see {@link DemoConfig#USAGE}
     * @throws InterruptedException if interrupted while waiting for the signal
     */
    public static void main(final String[] args) throws InterruptedException
    {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h")))
        {
            System.out.print(DemoConfig.USAGE);
            return;
        }
        // A thread outside the pipeline (the stats sampler, the log's sync thread) that dies of an
        // OutOfMemoryError or another VirtualMachineError ends the process as a worker's would: a
        // server that cannot allocate must not linger looking alive.
        Thread.setDefaultUncaughtExceptionHandler((thread, error) ->
        {
            if (error instanceof VirtualMachineError)
            {
                try
                {
                    printFatal(thread, error);
                }
                finally
                {
                    Runtime.getRuntime().halt(EXIT_FATAL);
                }
            }
            error.printStackTrace();
        });
        final DemoConfig config;
        final HttpService service;
        try
        {
            config = DemoConfig.parse(args);
            service = HttpService.start(config, LeakDetector.production(),
                DemoServer::exitOnFatal);
        }
        catch (final IllegalArgumentException | UncheckedIOException ex)
        {
            System.err.println("demo-server: " + ex.getMessage());
            System.exit(2);
            return;
        }
        final CountDownLatch stop = new CountDownLatch(1);
        final CountDownLatch stopped = new CountDownLatch(1);
        onTerminate(stop);
        if (config.proxy().enabled())
        {
            onHangup(service);
            System.out.println("Millrace demo server listening on http://" + service.address().getHostString() + ":" +
                service.address().getPort() + "/ (" + config.workers() + " workers, a reverse proxy to " +
                service.upstreamNames() + " by " + config.proxy().balance() + "); /stats and /metrics are its own" +
                (config.proxy().upstreamFile() == null ? "" : "; SIGHUP re-reads " + config.proxy().upstreamFile()));
        }
        else
        {
            System.out.println("Millrace demo server listening on http://" + service.address().getHostString() + ":" +
                service.address().getPort() + "/ (" + config.workers() + " workers, files from " +
                config.root().toAbsolutePath().normalize() + ", data in " + config.log().dataDir().toAbsolutePath().normalize() +
                "); try /hello, /stats, /metrics");
        }
        // A shutdown hook covers signals other than TERM and INT (and System.exit elsewhere).
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stop.countDown();
            try
            {
                stopped.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown"));
        stop.await();
        final ShutdownReport report = service.shutdown(DRAIN_DEADLINE);
        LOG.info("shut down: {}", report);
        stopped.countDown();
        System.exit(0);
    }

    /**
     * Runs on the pipeline thread that hit the error, after the pipeline marked itself failed.
     * {@code halt}, not {@code exit}: shutdown hooks would try to drain a server that cannot serve.
     */
    private static void exitOnFatal(final String pipeline, final Thread thread, final Throwable error)
    {
        try
        {
            printFatal(thread, error);
        }
        finally
        {
            Runtime.getRuntime().halt(EXIT_FATAL);
        }
    }

    /**
     * Prints the fatal error from bytes encoded at start-up (see {@link #FATAL_PREFIX}); the names in
     * the middle need a little heap and are left out if there is none.
     */
    private static void printFatal(final Thread thread, final Throwable error)
    {
        try
        {
            System.err.flush(); // what was logged before goes out first
        }
        catch (final Throwable ignored)
        {
            // nothing to do: the message below does not depend on it
        }
        writeQuietly(FATAL_PREFIX);
        try
        {
            writeQuietly((thread.getName() + " (" + error.getClass().getName() + ")").getBytes(StandardCharsets.UTF_8));
        }
        catch (final Throwable noHeapForTheNames)
        {
            writeQuietly(UNNAMED);
        }
        writeQuietly(FATAL_SUFFIX);
    }

    private static void writeQuietly(final byte[] bytes)
    {
        try
        {
            STDERR.write(bytes);
        }
        catch (final Throwable ignored)
        {
            // stderr is gone: nothing else can carry the message
        }
    }

    /**
     * SIGHUP re-reads the upstream file ({@link HttpService#reloadUpstreams()}, which logs what changed
     * or why the file was not applied), as nginx re-reads its configuration on HUP. The handler runs
     * on the JVM's signal-dispatch thread; a reload there only swaps the group's snapshot. Only in
     * proxy mode: otherwise HUP keeps its default (the process ends), as before.
     */
    private static void onHangup(final HttpService service)
    {
        try
        {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> service.reloadUpstreams());
        }
        catch (final IllegalArgumentException | UnsupportedOperationException | LinkageError ex)
        {
            LOG.warn("cannot handle SIGHUP here: the upstream file is read at start only");
        }
    }

    /**
     * SIGTERM and SIGINT release {@code stop} instead of starting the JVM's exit, so that the main
     * thread drains and exits with status 0 (a JVM killed by a signal exits with 128 + signal).
     * {@code sun.misc.Signal} is the JDK's supported-but-unofficial API for that (module
     * jdk.unsupported); where it is missing the shutdown hook still drains.
     */
    private static void onTerminate(final CountDownLatch stop)
    {
        for (final String name : new String[] {"TERM", "INT"})
        {
            try
            {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.countDown());
            }
            catch (final IllegalArgumentException | UnsupportedOperationException | LinkageError ex)
            {
                LOG.debug("cannot handle SIG{} here; the shutdown hook drains instead", name);
            }
        }
    }
}
