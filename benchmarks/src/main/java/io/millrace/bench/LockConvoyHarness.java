package io.millrace.bench;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.lock.CellStats;
import io.millrace.lock.ContentionReport;
import io.millrace.lock.LockGrid;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The lock-grid convoy a new user meets: two workers with the default idle policy, every request
 * takes the same grid cell for a critical section of a few nanoseconds, and a submitting thread
 * keeps as many requests in flight as the pipeline admits (its default bound, 2,048). Prints the
 * end-to-end latency (from an accepted {@code submit} to the completion listener, HdrHistogram) and
 * the grid's contention per round.
 *
 * <p>Two shapes:
 * <ul>
 *   <li>{@code direct}: one inline stage, the locked one;</li>
 *   <li>{@code partitioned}: an inline parse stage, a stage partitioned by account (so half the
 *       requests hop to the other worker, as in an application with partitioned data), then the
 *       locked reply stage, which runs on the account's owner.</li>
 * </ul>
 *
 * <pre>
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     io.millrace.bench.LockConvoyHarness [shape=partitioned] [rounds=5] [requests=200000] [workers=2]
 * </pre>
 *
 * <p>{@code guard} picks how the counter is protected: {@code grid} (the cell, the case above),
 * {@code atomic} (an {@code AtomicLong}, no lock), or {@code partition} (the reply stage is
 * partitioned with one key, so every update runs on one worker and needs no lock): the two cures the
 * lock-grid guide recommends for a critical section this small.
 *
 * <p>{@code gaps=true} also times the hand-over: the time from one request's critical section to the
 * next one's, split by whether the next one ran on the same worker or on the other (two clock
 * reads inside the critical section, so it is off by default).
 *
 * <p>Not a JMH suite: the measure is a latency distribution under a fixed offered load, and each round
 * reports its own so that the spread between rounds shows.
 */
public final class LockConvoyHarness
{
    private static final int POOL = 8_192;

    /** A request; reused once its previous use completed. */
    static final class Req
    {
        long submittedAt;
        int account;
        volatile boolean done = true;
    }

    private LockConvoyHarness()
    {
    }

    /**
     * @param args {@code key=value} settings: shape, rounds, requests, workers, warmup
     * @throws InterruptedException if interrupted
     */
    public static void main(final String[] args) throws InterruptedException
    {
        String shape = "partitioned";
        int rounds = 5;
        int requests = 200_000;
        int workers = 2;
        int warmup = 200_000;
        String idle = "backoff";
        String guard = "grid";
        boolean gaps = false;
        for (final String arg : args)
        {
            final String[] kv = arg.split("=", 2);
            switch (kv[0])
            {
                case "shape" -> shape = kv[1];
                case "rounds" -> rounds = Integer.parseInt(kv[1]);
                case "requests" -> requests = Integer.parseInt(kv[1]);
                case "workers" -> workers = Integer.parseInt(kv[1]);
                case "warmup" -> warmup = Integer.parseInt(kv[1]);
                case "idle" -> idle = kv[1];
                case "guard" -> guard = kv[1];
                case "gaps" -> gaps = Boolean.parseBoolean(kv[1]);
                default -> throw new IllegalArgumentException("unknown setting " + arg +
                    "; use shape=direct|partitioned rounds=N requests=N workers=N warmup=N idle=backoff|spin|yield guard=grid|atomic|partition gaps=true|false");
            }
        }
        final Recorder latency = new Recorder(3);
        final long[] counter = new long[16];
        final AtomicLong atomic = new AtomicLong();
        // Written only inside the critical section, so the cell orders them; read after the run.
        final long[] lastExit = new long[2];
        final Histogram sameWorker = new Histogram(3);
        final Histogram otherWorker = new Histogram(3);
        final boolean timeGaps = gaps;
        final AtomicLong completed = new AtomicLong();
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> parse = b.stage("parse");
        final StageRef<Req> account = b.stage("account", Placement.partitioned(r -> r.account));
        final StageRef<Req> reply = guard.equals("partition") ? b.stage("reply", Placement.partitioned(r -> 0))
            : b.stage("reply");
        final LockGrid grid = LockGrid.builder().name("convoy").rows(reply).columns(64).build();
        b.handle(parse, (r, ctx) -> Outcome.next(account))
            .handle(account, (r, ctx) -> Outcome.next(reply))
            .handle(reply, guard.equals("grid") ? (r, ctx) ->
            {
                if (!grid.acquire(ctx, 0L))
                {
                    return Outcome.blocked();
                }
                counter[0]++; // the nanosecond critical section
                if (timeGaps)
                {
                    final long now = System.nanoTime();
                    if (lastExit[0] != 0)
                    {
                        (lastExit[1] == ctx.workerIndex() ? sameWorker : otherWorker).recordValue(Math.max(1, now - lastExit[0]));
                    }
                    lastExit[0] = now;
                    lastExit[1] = ctx.workerIndex();
                }
                grid.release(ctx, 0L);
                return Outcome.done();
            } : guard.equals("atomic") ? (r, ctx) ->
            {
                atomic.incrementAndGet();
                return Outcome.done();
            } : (r, ctx) ->
            {
                counter[0]++; // one partition: always the same worker
                return Outcome.done();
            });
        if (!guard.equals("grid") && !guard.equals("atomic") && !guard.equals("partition"))
        {
            throw new IllegalArgumentException("guard is grid, atomic or partition, was " + guard);
        }
        if (shape.equals("direct"))
        {
            b.entry(reply);
        }
        else if (!shape.equals("partitioned"))
        {
            throw new IllegalArgumentException("shape is direct or partitioned, was " + shape);
        }
        b.idle(switch (idle)
        {
            case "backoff" -> Idle.backoff();
            case "spin" -> Idle.busySpin();
            case "yield" -> Idle.backoff(10, Long.MAX_VALUE / 4, 1_000, 1_000_000);
            default -> throw new IllegalArgumentException("idle is backoff, spin or yield, was " + idle);
        });
        final Pipeline<Req> pipeline = b.name("convoy").workers(workers)
            .onComplete((r, error) ->
            {
                latency.recordValue(Math.max(1, System.nanoTime() - r.submittedAt));
                r.done = true;
                completed.incrementAndGet();
            })
            .build().start();
        final Req[] pool = new Req[POOL];
        for (int i = 0; i < POOL; i++)
        {
            pool[i] = new Req();
        }
        System.out.printf(Locale.ROOT, "lock convoy: shape=%s, guard=%s, idle=%s, %d workers, in-flight bound %,d, %,d requests per round%n",
            shape, guard, idle, workers, pipeline.metrics().maxInFlight(), requests);
        final long[] next = {0};
        run(pipeline, pool, next, warmup, completed);
        latency.reset();
        ContentionReport before = grid.report();
        MetricsSnapshot metricsBefore = pipeline.metrics();
        final Histogram all = new Histogram(3);
        for (int round = 1; round <= rounds; round++)
        {
            final long start = System.nanoTime();
            run(pipeline, pool, next, requests, completed);
            final long elapsed = System.nanoTime() - start;
            final Histogram h = latency.getIntervalHistogram();
            all.add(h);
            final ContentionReport report = grid.report();
            final ContentionReport interval = report.since(before);
            final MetricsSnapshot metrics = pipeline.metrics();
            final CellStats cell = interval.row(0);
            System.out.printf(Locale.ROOT,
                "round %d: %,.0f req/s; end to end p50 %s, p90 %s, p99 %s, p99.9 %s, max %s; contended %.1f%%, wait p50 %s, " +
                    "p99 %s; worker parks %,d, wakes %,d, local resumes %,d%n",
                round, requests * 1e9 / elapsed, ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()),
                100 * cell.contentionRate(), ms(cell.waitAtPercentile(50)), ms(cell.waitAtPercentile(99)),
                sum(metrics, metricsBefore, 0), sum(metrics, metricsBefore, 1), sum(metrics, metricsBefore, 2));
            before = report;
            metricsBefore = metrics;
        }
        System.out.printf(Locale.ROOT, "all rounds: end to end p50 %s, p90 %s, p99 %s, p99.9 %s, max %s (%,d requests)%n",
            ms(all.getValueAtPercentile(50)), ms(all.getValueAtPercentile(90)), ms(all.getValueAtPercentile(99)),
            ms(all.getValueAtPercentile(99.9)), ms(all.getMaxValue()), all.getTotalCount());
        pipeline.shutdown(Duration.ofSeconds(5));
        if (guard.equals("grid"))
        {
            System.out.print(grid.report().table(3));
        }
        if (timeGaps)
        {
            for (final Histogram h : new Histogram[] {sameWorker, otherWorker})
            {
                System.out.printf(Locale.ROOT, "hand-overs to the %s worker: %,d, gap p50 %s, p90 %s, p99 %s, mean %s, total %s%n",
                    h == sameWorker ? "same" : "other", h.getTotalCount(), ms(h.getValueAtPercentile(50)),
                    ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)), ms((long)h.getMean()),
                    ms((long)(h.getMean() * h.getTotalCount())));
            }
        }
        if (counter[0] + atomic.get() != warmup + (long)rounds * requests)
        {
            throw new IllegalStateException("the grid let requests through together: counter " + counter[0]);
        }
    }

    /** Submits {@code n} requests as fast as the pipeline accepts them and waits for all to complete. */
    private static void run(final Pipeline<Req> pipeline, final Req[] pool, final long[] next, final int n,
        final AtomicLong completed)
    {
        final long target = completed.get() + n;
        for (int i = 0; i < n; i++)
        {
            final Req r = pool[(int)(next[0]++ % POOL)];
            while (!r.done)
            {
                Thread.onSpinWait();
            }
            r.done = false;
            r.account = (int)(next[0] & 1023);
            int spins = 0;
            r.submittedAt = System.nanoTime();
            while (!pipeline.submit(r).accepted())
            {
                if (++spins < 100)
                {
                    Thread.onSpinWait();
                }
                else
                {
                    LockSupport.parkNanos(10_000);
                }
                r.submittedAt = System.nanoTime();
            }
        }
        while (completed.get() < target)
        {
            LockSupport.parkNanos(100_000);
        }
    }

    private static long sum(final MetricsSnapshot now, final MetricsSnapshot then, final int what)
    {
        long total = 0;
        for (int i = 0; i < now.workers().size(); i++)
        {
            final WorkerMetrics a = now.workers().get(i);
            final WorkerMetrics b = then.workers().get(i);
            total += switch (what)
            {
                case 0 -> a.parks() - b.parks();
                case 1 -> a.wakes() - b.wakes();
                default -> a.localResumes() - b.localResumes();
            };
        }
        return total;
    }

    private static String ms(final long nanos)
    {
        if (nanos < 10_000)
        {
            return String.format(Locale.ROOT, "%.2f µs", nanos / 1e3);
        }
        if (nanos < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.0f µs", nanos / 1e3);
        }
        return nanos < 1_000_000_000 ? String.format(Locale.ROOT, "%.2f ms", nanos / 1e6)
            : String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }
}
