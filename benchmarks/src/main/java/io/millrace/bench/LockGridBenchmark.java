package io.millrace.bench;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.lock.ContentionReport;
import io.millrace.lock.LockGrid;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock grid against one global {@link ReentrantLock} and 16 striped ones, on the same path: a
 * pipeline of 2 busy-spinning workers whose one stage takes the lock for the request's key, does the
 * same work inside (burns {@code work} JMH CPU tokens and bumps the key's counter), and gives the
 * lock back. Only the lock differs:
 * <ul>
 *   <li>{@code grid}: {@link LockGrid#acquire}; a held cell parks the request and the worker moves on;</li>
 *   <li>{@code global}: one {@code ReentrantLock} for everything, the article's "one big lock";</li>
 *   <li>{@code striped}: {@code ReentrantLock[16]} indexed by the key's hash, like a
 *       {@code ConcurrentHashMap} segment. A worker blocked on either parks its thread.</li>
 * </ul>
 * Key patterns: {@code disjoint}, each worker uses its own 8 keys, chosen so that no grid cell and no
 * stripe is shared between the workers (no data-set contention exists, only lock contention the lock
 * itself creates); {@code hot}, every request uses one key.
 *
 * <p>One operation is one request. Each invocation runs {@value #REQUESTS} requests: the benchmark
 * thread seeds {@value #IN_FLIGHT_PER_WORKER} requests per worker and parks; the completion listener,
 * on the worker, resubmits to the same worker until that worker has completed its half. Requests never
 * change worker, so nothing but the lock couples the two workers.
 *
 * <p>Contention: the auxiliary counter {@code contended} counts acquisitions that found the lock held
 * (grid: {@code acquire} returned {@code false}; locks: {@code tryLock()} failed before {@code lock()}),
 * per second like the score, so contended / score is the contention rate; each iteration prints it as
 * a percentage. For a {@code ReentrantLock} it undercounts waiting: a thread parked in {@code lock()}
 * makes no attempts while it sleeps, so the other one takes the lock again and again uncontended. The
 * grid's own {@link ContentionReport} is printed at the end of each grid trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class LockGridBenchmark
{
    static final int WORKERS = 2;
    static final int REQUESTS = 20_000;
    static final int IN_FLIGHT_PER_WORKER = 16;
    static final int KEYS_PER_WORKER = 8;
    static final int STRIPES = 16;
    static final int COLUMNS = 64;

    /** Padding before an object's fields: objects of the two workers must not share a cache line. */
    static class LeftPad
    {
        long p01, p02, p03, p04, p05, p06, p07;
    }

    /** A request's fields: which worker carries it, its key, and whether its last acquire parked it. */
    static class ReqFields extends LeftPad
    {
        int worker = -1;
        long key;
        int slot;
        boolean parked;
    }

    /** A request, padded (superclass fields are laid out first, so the padding surrounds them). */
    static final class Req extends ReqFields
    {
        long p11, p12, p13, p14, p15, p16, p17;
    }

    /** One worker's budget and counters; written only by that worker. */
    static class LaneFields extends LeftPad
    {
        int started;
        int completed;
        int target;
        int nextKey;
        long acquisitions;
        long contended;
    }

    /** A worker's lane, padded like {@link Req}. */
    static final class Lane extends LaneFields
    {
        long p11, p12, p13, p14, p15, p16, p17;
    }

    /**
     * Contended acquisitions per second, reported next to the throughput (requests, that is
     * acquisitions, per second): their ratio is the contention rate, which each iteration also prints.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Contention
    {
        /** Acquisitions that found the lock held, this iteration. */
        public long contended;
        long acquisitions;

        @Setup(Level.Iteration)
        public void reset()
        {
            acquisitions = 0;
            contended = 0;
        }

        @TearDown(Level.Iteration)
        public void print()
        {
            System.out.printf(Locale.ROOT, "  contention: %,d of %,d acquisitions found the lock held (%.2f%%)%n", contended,
                acquisitions, acquisitions == 0 ? 0 : 100.0 * contended / acquisitions);
        }
    }

    @Param({"grid", "global", "striped"})
    public String lock;

    @Param({"disjoint", "hot"})
    public String keys;

    /** JMH CPU tokens burnt inside the critical section. */
    @Param({"100", "1000"})
    public int work;

    private Pipeline<Req> pipeline;
    private LockGrid grid;
    private final ReentrantLock global = new ReentrantLock();
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    /** Guarded data: one counter per key slot, 16 longs apart so that slots never share a line. */
    private final long[] slots = new long[WORKERS * KEYS_PER_WORKER * 16];
    private final long[][] keyOf = new long[WORKERS][KEYS_PER_WORKER];
    private final Lane[] lanes = new Lane[WORKERS];
    private final Req[] seeds = new Req[WORKERS * IN_FLIGHT_PER_WORKER];
    private final AtomicInteger finishedWorkers = new AtomicInteger();
    private volatile Thread waiter;
    private volatile Throwable firstError;
    private ContentionReport trialStart;

    @Setup(Level.Trial)
    public void setUp()
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> critical = b.stage("critical");
        grid = LockGrid.builder().name("bench").rows(critical).columns(COLUMNS).build();
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new ReentrantLock();
        }
        chooseKeys();
        for (int i = 0; i < WORKERS; i++)
        {
            lanes[i] = new Lane();
        }
        for (int i = 0; i < seeds.length; i++)
        {
            seeds[i] = new Req();
        }
        final int mode = switch (lock)
        {
            case "grid" -> 0;
            case "global" -> 1;
            case "striped" -> 2;
            default -> throw new IllegalArgumentException("lock " + lock);
        };
        final boolean hot = "hot".equals(keys);
        b.handle(critical, (r, ctx) ->
        {
            final Lane lane = lane(r, ctx);
            if (!r.parked)
            {
                final int k = hot ? 0 : lane.nextKey++ & (KEYS_PER_WORKER - 1);
                final int w = hot ? 0 : r.worker;
                r.key = keyOf[w][k];
                r.slot = w * KEYS_PER_WORKER + k;
                lane.acquisitions++;
            }
            return switch (mode)
            {
                case 0 -> viaGrid(r, ctx, lane);
                case 1 -> viaLock(r, global, lane);
                default -> viaLock(r, stripes[stripeOf(r.key)], lane);
            };
        });
        pipeline = b.name("lock-bench").workers(WORKERS).idle(Idle.busySpin()).ringSize(1024)
            .onComplete((r, error) ->
            {
                if (error != null && firstError == null)
                {
                    firstError = error;
                }
                completed(r);
            })
            .build().start();
        trialStart = grid.report();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        pipeline.shutdown(Duration.ofSeconds(5));
        if (firstError != null)
        {
            throw new IllegalStateException("a request failed; the numbers are void", firstError);
        }
        if ("grid".equals(lock))
        {
            System.out.println();
            System.out.print(grid.report().since(trialStart).table(4));
        }
    }

    @Benchmark
    @OperationsPerInvocation(REQUESTS)
    public long requests(final Contention contention)
    {
        waiter = Thread.currentThread();
        finishedWorkers.set(0);
        for (final Lane lane : lanes)
        {
            lane.started = 0;
            lane.completed = 0;
            lane.target = REQUESTS / WORKERS;
            lane.acquisitions = 0;
            lane.contended = 0;
        }
        for (final Req r : seeds)
        {
            r.worker = -1;
            r.parked = false;
            // Seeds go round-robin over the workers; their worker is fixed at their first stage.
            while (!pipeline.submit(r).accepted())
            {
                Thread.onSpinWait();
            }
        }
        while (finishedWorkers.get() < WORKERS)
        {
            LockSupport.park(this);
        }
        for (final Lane lane : lanes)
        {
            contention.acquisitions += lane.acquisitions;
            contention.contended += lane.contended;
        }
        return slots[0];
    }

    private Outcome viaGrid(final Req r, final StageContext ctx, final Lane lane)
    {
        if (!grid.acquire(ctx, r.key))
        {
            r.parked = true;
            lane.contended++;
            return Outcome.blocked();
        }
        r.parked = false;
        criticalSection(r.slot);
        grid.release(ctx, r.key);
        return Outcome.done();
    }

    private Outcome viaLock(final Req r, final ReentrantLock lock, final Lane lane)
    {
        if (!lock.tryLock())
        {
            lane.contended++;
            lock.lock();
        }
        try
        {
            criticalSection(r.slot);
        }
        finally
        {
            lock.unlock();
        }
        return Outcome.done();
    }

    /** The same work for every variant, all of it inside the lock. */
    private void criticalSection(final int slot)
    {
        Blackhole.consumeCPU(work);
        slots[slot * 16]++;
    }

    private Lane lane(final Req r, final StageContext ctx)
    {
        if (r.worker < 0)
        {
            r.worker = ctx.workerIndex();
            lanes[r.worker].started++;
        }
        return lanes[r.worker];
    }

    /** Completion listener, on the request's worker: resubmit to the same worker until its half is done. */
    private void completed(final Req r)
    {
        final Lane lane = lanes[r.worker];
        lane.completed++;
        if (lane.started < lane.target)
        {
            lane.started++;
            r.parked = false;
            if (!pipeline.submit(r).accepted())
            {
                throw new IllegalStateException("resubmission refused: raise maxInFlight");
            }
        }
        else if (lane.completed == lane.target && finishedWorkers.incrementAndGet() == WORKERS)
        {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * Gives each worker {@value #KEYS_PER_WORKER} keys such that the two workers share no grid column
     * and no stripe: on "disjoint" only the lock itself can make them wait for each other.
     */
    private void chooseKeys()
    {
        final boolean[] columnTaken = new boolean[COLUMNS];
        final boolean[] stripeTaken = new boolean[STRIPES];
        final int[] stripeOwner = new int[STRIPES];
        Arrays.fill(stripeOwner, -1);
        long candidate = 1;
        for (int w = 0; w < WORKERS; w++)
        {
            for (int k = 0; k < KEYS_PER_WORKER; k++)
            {
                for (;; candidate++)
                {
                    final int column = grid.columnOf(candidate);
                    final int stripe = stripeOf(candidate);
                    final boolean stripeFree = !stripeTaken[stripe] || stripeOwner[stripe] == w;
                    if (!columnTaken[column] && stripeFree)
                    {
                        columnTaken[column] = true;
                        stripeTaken[stripe] = true;
                        stripeOwner[stripe] = w;
                        keyOf[w][k] = candidate++;
                        break;
                    }
                }
            }
        }
    }

    private static int stripeOf(final long key)
    {
        final long h = key * 0x9E3779B97F4A7C15L;
        return (int)(h >>> 60) & (STRIPES - 1);
    }
}
