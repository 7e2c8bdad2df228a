package io.millrace.demo;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.SubmitResult;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo runner. Until the network transport lands it drives a three-stage pipeline
 * (parse, price by customer partition, reply) with generated requests and prints the runtime's
 * metrics once a second, so the runtime can be watched end to end. SIGTERM or Ctrl-C shuts it down
 * gracefully and exits 0.
 */
public final class DemoServer
{
    private static final String USAGE = """
        Usage: demo-server [--workers N] [--rate N] [--seconds N]
          --workers N   worker threads (default: available processors)
          --rate N      generated requests per second (default 100000)
          --seconds N   stop after N seconds; 0 runs until SIGTERM or Ctrl-C (default 0)
          --help        this text

        Runs a 3-stage Millrace pipeline (parse -> price, partitioned by customer -> reply) and prints
        its metrics once a second. The HTTP/1.1 transport arrives with the transport issue.
        """;

    private DemoServer()
    {
    }

    /** A generated order; mutable, owned by whichever thread carries it. */
    static final class Order
    {
        final int customer;
        final String line;
        long cents;

        Order(final int customer, final String line)
        {
            this.customer = customer;
            this.line = line;
        }
    }

    /**
     * @param args see {@link #USAGE}
     * @throws InterruptedException if interrupted while running
     */
    public static void main(final String[] args) throws InterruptedException
    {
        int workers = Runtime.getRuntime().availableProcessors();
        long rate = 100_000;
        long seconds = 0;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--help", "-h" ->
                {
                    System.out.print(USAGE);
                    return;
                }
                case "--workers" -> workers = intArg(args, ++i, "--workers", 1);
                case "--rate" -> rate = intArg(args, ++i, "--rate", 1);
                case "--seconds" -> seconds = intArg(args, ++i, "--seconds", 0);
                default ->
                {
                    System.err.println("unknown argument '" + args[i] + "'\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        run(workers, rate, seconds);
    }

    private static int intArg(final String[] args, final int i, final String flag, final int min)
    {
        try
        {
            final int v = Integer.parseInt(args[i]);
            if (v >= min)
            {
                return v;
            }
        }
        catch (final RuntimeException ignored)
        {
            // fall through to the message
        }
        System.err.println(flag + " needs a whole number >= " + min + "\n" + USAGE);
        System.exit(2);
        return min;
    }

    private static void run(final int workers, final long rate, final long seconds) throws InterruptedException
    {
        final AtomicLong completed = new AtomicLong();
        final PipelineBuilder<Order> b = Pipeline.builder();
        final StageRef<Order> parse = b.stage("parse");
        final StageRef<Order> price = b.stage("price", Placement.partitioned(o -> o.customer));
        final StageRef<Order> reply = b.stage("reply");
        b.handle(parse, (o, ctx) -> o.line.isEmpty() ? Outcome.done() : Outcome.next(price))
            .handle(price, (o, ctx) ->
            {
                o.cents = o.line.length() * 199L;
                return Outcome.next(reply);
            })
            .handle(reply, (o, ctx) -> Outcome.done());
        final Pipeline<Order> pipeline = b.name("demo").workers(workers)
            .onComplete((o, error) -> completed.incrementAndGet()).build().start();

        final CountDownLatch stop = new CountDownLatch(1);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stop.countDown();
            try
            {
                stopped.await(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ignored)
            {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown"));

        System.out.printf("demo pipeline '%s' running on %d workers at %d requests/s; Ctrl-C to stop%n",
            pipeline.name(), pipeline.workerCount(), rate);
        final long start = System.nanoTime();
        final long periodNanos = Math.max(1, TimeUnit.SECONDS.toNanos(1) / rate);
        long next = start;
        long lastPrint = start;
        long sent = 0;
        long shed = 0;
        while (stop.getCount() > 0 && (seconds == 0 || System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)))
        {
            final long now = System.nanoTime();
            if (now - next < 0)
            {
                stop.await(Math.min(1_000_000, next - now), TimeUnit.NANOSECONDS);
                continue;
            }
            next += periodNanos;
            final SubmitResult r = pipeline.submit(new Order((int)(sent % 1024), "order-" + sent));
            sent++;
            if (!r.accepted())
            {
                shed++;
            }
            if (now - lastPrint >= TimeUnit.SECONDS.toNanos(1))
            {
                lastPrint = now;
                print(pipeline.metrics(), completed.get(), shed);
            }
        }
        final ShutdownReport report = pipeline.shutdown(Duration.ofSeconds(5));
        print(pipeline.metrics(), completed.get(), shed);
        System.out.println("shutdown: " + report);
        stopped.countDown();
    }

    private static void print(final MetricsSnapshot m, final long completed, final long shed)
    {
        final StringBuilder line = new StringBuilder();
        line.append(String.format("completed=%d shed=%d inFlight=%d hops=%d", completed, shed, m.inFlight(), m.internalPublishes()));
        for (final StageMetrics s : m.stages())
        {
            line.append(String.format(" | %s n=%d p50=%dns p99=%dns", s.name(), s.count(),
                s.serviceTimeAtPercentile(50), s.serviceTimeAtPercentile(99)));
        }
        System.out.println(line);
    }
}
