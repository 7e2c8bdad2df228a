package io.millrace.lock;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seed article's method on an order pipeline, with numbers: start with one big lock, read the
 * contention map, re-cut the data sets, read it again, re-cut the stages, then cut the one data set
 * that is still hot, measuring each time. Produces the tables and heat maps of
 * {@code docs/lock-grid.md} (the command there gives the full class path):
 *
 * <pre>
 * mvn -o -q test-compile -pl framework
 * java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp framework/target/classes:framework/target/test-classes:DEPENDENCIES \
 *      io.millrace.lock.LockGridTuningDemo docs 1000000
 * </pre>
 *
 * <p>An order debits stock (data set: its SKU, uniform over {@value #SKUS}) and posts to a ledger
 * (data set: its account; one account in five is the same hot account). Both updates are plain
 * {@code long}s guarded only by grid cells, and the totals are checked at the end. Each update burns
 * the same fixed amount of CPU, so every step does the same work; only the cut changes.
 */
public final class LockGridTuningDemo
{
    static final int SKUS = 10_000;
    static final int ACCOUNTS = 100_000;
    static final int HOT_ACCOUNT = 0;
    /** Key space of accounts, apart from SKUs, for steps whose one stage locks both. */
    static final long ACCOUNT_KEYS = 1L << 40;
    /** Sub-ledgers of the hot account in step 4; its balance is their sum. */
    static final int HOT_SHARDS = 8;
    /** Key space of the hot account's sub-ledgers. */
    static final long HOT_SHARD_KEYS = 1L << 41;
    /** Orders in flight: the load generator keeps the pipeline this full. */
    static final int IN_FLIGHT = 64;
    /** Iterations of the CPU burn per update: a few hundred nanoseconds. */
    static final int BURN = 200;

    /** The four cuts, in the order the method takes them. */
    enum Step
    {
        COARSE("1-coarse", "one stage, one data set: a single lock around the whole order"),
        DATA_SETS("2-data-sets", "one stage, 64 data sets: the order takes its SKU's and its account's cell"),
        STAGES("3-stages", "two stages, 64 data sets each: reserve takes the SKU's cell, post the account's"),
        SPLIT_HOT("4-hot-account", "as 3, and the hot account's ledger split into " + HOT_SHARDS +
            " sub-ledgers, each its own data set");

        final String file;
        final String description;

        Step(final String file, final String description)
        {
            this.file = file;
            this.description = description;
        }
    }

    /** An order. */
    static final class Order
    {
        final int id;
        final int sku;
        final int account;

        Order(final int id, final int sku, final int account)
        {
            this.id = id;
            this.sku = sku;
            this.account = account;
        }
    }

    /** What one step measured. */
    record Result(Step step, int orders, long elapsedNanos, ContentionReport report, long stockTotal, long ledgerTotal)
    {
        double ordersPerSecond()
        {
            return orders * 1e9 / elapsedNanos;
        }
    }

    private LockGridTuningDemo()
    {
    }

    /**
     * @param args output directory for the SVGs (optional), orders per step (default 1,000,000)
     * @throws Exception if a step fails
     */
    public static void main(final String[] args) throws Exception
    {
        final Path out = args.length > 0 ? Path.of(args[0]) : null;
        final int orders = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        System.out.printf(Locale.ROOT, "%d orders per step, 2 workers, %d available processors, %s%n%n", orders,
            Runtime.getRuntime().availableProcessors(), Runtime.version());
        for (final Step step : Step.values())
        {
            final Result r = run(step, orders, 7);
            System.out.printf(Locale.ROOT, "== step %s: %s%n%,.0f orders/s (%.0f ms)%n%s%n", step.file, step.description,
                r.ordersPerSecond(), r.elapsedNanos() / 1e6, r.report().table(5));
            if (out != null)
            {
                write(r, out);
            }
        }
    }

    static void write(final Result r, final Path dir) throws IOException
    {
        HeatMap.write(r.report(), HeatMap.Shade.CONTENTION_RATE, dir.resolve("lock-grid-" + r.step().file + ".svg"));
    }

    /**
     * Runs one step: a warm-up of a quarter of {@code orders}, then {@code orders} measured.
     *
     * @return throughput, the contention report of the measured part, and the guarded totals
     */
    static Result run(final Step step, final int orders, final long seed) throws InterruptedException
    {
        final long[] stock = new long[SKUS];
        final long[] ledger = new long[ACCOUNTS];
        // One cache line per sub-ledger: two workers posting to neighbouring sub-ledgers must not share one.
        final long[] hotLedger = new long[HOT_SHARDS * 16];
        final PipelineBuilder<Order> b = Pipeline.builder();
        final LockGrid grid;
        switch (step)
        {
            case COARSE ->
            {
                final StageRef<Order> order = b.stage("order");
                grid = LockGrid.builder().name("orders").rows(order).columns(1).build();
                b.handle(order, (o, ctx) ->
                {
                    if (!grid.acquire(ctx, 0))
                    {
                        return Outcome.blocked();
                    }
                    stock[o.sku] -= burn(o.sku);
                    ledger[o.account] += burn(o.account);
                    grid.release(ctx, 0);
                    return Outcome.done();
                });
            }
            case DATA_SETS ->
            {
                final StageRef<Order> order = b.stage("order");
                grid = LockGrid.builder().name("orders").rows(order).columns(64).build();
                b.handle(order, (o, ctx) ->
                {
                    final long skuKey = o.sku;
                    final long accountKey = ACCOUNT_KEYS + o.account;
                    if (!grid.acquireAll(ctx, skuKey, accountKey))
                    {
                        return Outcome.blocked();
                    }
                    stock[o.sku] -= burn(o.sku);
                    ledger[o.account] += burn(o.account);
                    grid.releaseAll(ctx, skuKey, accountKey);
                    return Outcome.done();
                });
            }
            case STAGES ->
            {
                final StageRef<Order> reserve = b.stage("reserve");
                final StageRef<Order> post = b.stage("post");
                grid = LockGrid.builder().name("orders").rows(reserve, post).columns(64).build();
                b.handle(reserve, (o, ctx) ->
                {
                    if (!grid.acquire(ctx, o.sku))
                    {
                        return Outcome.blocked();
                    }
                    stock[o.sku] -= burn(o.sku);
                    grid.release(ctx, o.sku);
                    return Outcome.next(post);
                }).handle(post, (o, ctx) ->
                {
                    if (!grid.acquire(ctx, o.account))
                    {
                        return Outcome.blocked();
                    }
                    ledger[o.account] += burn(o.account);
                    grid.release(ctx, o.account);
                    return Outcome.done();
                });
            }
            default ->
            {
                final StageRef<Order> reserve = b.stage("reserve");
                final StageRef<Order> post = b.stage("post");
                grid = LockGrid.builder().name("orders").rows(reserve, post).columns(64).build();
                final long[] shardKeys = shardKeys(grid);
                b.handle(reserve, (o, ctx) ->
                {
                    if (!grid.acquire(ctx, o.sku))
                    {
                        return Outcome.blocked();
                    }
                    stock[o.sku] -= burn(o.sku);
                    grid.release(ctx, o.sku);
                    return Outcome.next(post);
                }).handle(post, (o, ctx) ->
                {
                    final boolean hot = o.account == HOT_ACCOUNT;
                    final long key = hot ? shardKeys[o.id % HOT_SHARDS] : o.account;
                    if (!grid.acquire(ctx, key))
                    {
                        return Outcome.blocked();
                    }
                    if (hot)
                    {
                        hotLedger[(o.id % HOT_SHARDS) * 16] += burn(o.account);
                    }
                    else
                    {
                        ledger[o.account] += burn(o.account);
                    }
                    grid.release(ctx, key);
                    return Outcome.done();
                });
            }
        }
        final Feeder feeder = new Feeder();
        final Pipeline<Order> pipeline = b.name("orders-" + step.file).workers(2).maxInFlight(2 * IN_FLIGHT)
            .idle(Idle.busySpin()).onComplete(feeder::completed).build().start();
        feeder.pipeline = pipeline;
        try
        {
            final SplittableRandom random = new SplittableRandom(seed);
            final Order[] warmUp = orders(random, Math.max(1, orders / 4), 0);
            final Order[] measured = orders(random, orders, warmUp.length);
            feeder.runAll(warmUp);
            final ContentionReport before = grid.report();
            final long start = System.nanoTime();
            feeder.runAll(measured);
            final long elapsed = System.nanoTime() - start;
            final ContentionReport report = grid.report().since(before);
            if (feeder.failed.get() != 0)
            {
                throw new IllegalStateException(feeder.failed.get() + " orders failed in step " + step);
            }
            long stockTotal = 0;
            for (final long s : stock)
            {
                stockTotal += s;
            }
            long ledgerTotal = 0;
            for (final long l : ledger)
            {
                ledgerTotal += l;
            }
            for (final long l : hotLedger)
            {
                ledgerTotal += l;
            }
            return new Result(step, orders, elapsed, report, stockTotal, ledgerTotal);
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(10));
        }
    }

    /**
     * A closed-loop load generator without a thread of its own: the caller seeds {@value #IN_FLIGHT}
     * orders and parks; each completion, on its worker, submits the next order to that same worker.
     * So the two workers have the two cores to themselves, and {@value #IN_FLIGHT} orders are always in
     * flight.
     */
    private static final class Feeder
    {
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger next = new AtomicInteger();
        volatile Pipeline<Order> pipeline;
        volatile Order[] orders;
        volatile CountDownLatch done;

        void runAll(final Order[] batch) throws InterruptedException
        {
            orders = batch;
            done = new CountDownLatch(batch.length);
            final int seeds = Math.min(IN_FLIGHT, batch.length);
            next.set(seeds);
            for (int i = 0; i < seeds; i++)
            {
                Submit.untilAccepted(pipeline, batch[i]);
            }
            if (!done.await(5, TimeUnit.MINUTES))
            {
                throw new IllegalStateException("orders did not complete: " + done.getCount() + " left");
            }
        }

        void completed(final Order order, final Throwable error)
        {
            if (error != null)
            {
                failed.incrementAndGet();
            }
            final Order[] batch = orders;
            final int i = next.getAndIncrement();
            if (i < batch.length && !pipeline.submit(batch[i]).accepted())
            {
                throw new IllegalStateException("refused although at most " + IN_FLIGHT + " orders are in flight");
            }
            done.countDown();
        }
    }

    private static Order[] orders(final SplittableRandom random, final int n, final int firstId)
    {
        final Order[] orders = new Order[n];
        for (int i = 0; i < n; i++)
        {
            final int account = random.nextInt(5) == 0 ? HOT_ACCOUNT : 1 + random.nextInt(ACCOUNTS - 1);
            orders[i] = new Order(firstId + i, random.nextInt(SKUS), account);
        }
        return orders;
    }

    /**
     * Keys for the hot account's sub-ledgers, chosen so that each lands in its own data set, none of
     * them the hot account's old one: hashing alone would put two of eight in one column about a
     * third of the time, and the map would show that cell hot again.
     */
    static long[] shardKeys(final LockGrid grid)
    {
        final long[] keys = new long[HOT_SHARDS];
        final Set<Integer> used = new HashSet<>();
        used.add(grid.columnOf(HOT_ACCOUNT));
        long candidate = HOT_SHARD_KEYS;
        for (int i = 0; i < HOT_SHARDS; candidate++)
        {
            if (used.add(grid.columnOf(candidate)))
            {
                keys[i++] = candidate;
            }
        }
        return keys;
    }

    /**
     * A fixed amount of CPU work whose result is 1, so that the guarded totals are checkable.
     */
    static long burn(final long seed)
    {
        long x = seed | 1;
        for (int i = 0; i < BURN; i++)
        {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x == 42 ? 2 : 1;
    }
}
