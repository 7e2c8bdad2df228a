package io.millrace.lock;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.CapturedLog;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grid's rules, each shown with a request that holds a cell across stages (parked in a stage the
 * test resumes), so that whatever else runs meanwhile provably ran while the cell was held.
 */
class LockGridTest
{
    /** A request: its key, and what it should do at the branch points. */
    static final class Req
    {
        final int id;
        final long key;
        final String kind;

        Req(final int id, final long key, final String kind)
        {
            this.id = id;
            this.key = key;
            this.kind = kind;
        }

        @Override
        public String toString()
        {
            return kind + "#" + id;
        }
    }

    /**
     * route -> a (row) -> hold -> releaseA -> b (row) -> done. "holder" requests park in hold until the
     * test resumes them; "b-only" requests skip stage a.
     */
    private static final class Fixture
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> route = b.stage("route");
        final StageRef<Req> a = b.stage("a");
        final StageRef<Req> hold = b.stage("hold");
        final StageRef<Req> releaseA = b.stage("release-a");
        final StageRef<Req> stageB = b.stage("b");
        final LockGrid grid;
        final LinkedBlockingQueue<Suspension> held = new LinkedBlockingQueue<>();
        final ConcurrentLinkedQueue<Req> enteredA = new ConcurrentLinkedQueue<>();
        final AtomicIntegerArray insideA;
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        final Map<Req, Throwable> errors = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<Req> completed = new ConcurrentLinkedQueue<>();
        Pipeline<Req> pipeline;

        Fixture(final int columns)
        {
            grid = LockGrid.builder().name("test").rows(a, stageB).columns(columns).build();
            insideA = new AtomicIntegerArray(columns);
            b.handle(route, (r, ctx) -> Outcome.next("b-only".equals(r.kind) ? stageB : a))
             .handle(a, (r, ctx) ->
             {
                 if (!grid.acquire(ctx, r.key))
                 {
                     if ("ignores-false".equals(r.kind))
                     {
                         return Outcome.done(); // misuse: must return blocked()
                     }
                     return Outcome.blocked();
                 }
                 final int column = grid.columnOf(r.key);
                 if (insideA.incrementAndGet(column) != 1)
                 {
                     problems.add(r + " entered (a, " + column + ") while another request was inside");
                 }
                 enteredA.add(r);
                 insideA.decrementAndGet(column);
                 return switch (r.kind)
                 {
                     case "holder" -> Outcome.next(hold);
                     case "forgets" -> Outcome.done();
                     default -> Outcome.next(releaseA);
                 };
             })
             .handle(hold, (r, ctx) ->
             {
                 held.add(ctx.suspend());
                 return Outcome.blocked();
             })
             .handle(releaseA, (r, ctx) ->
             {
                 grid.release(ctx, a, r.key);
                 return Outcome.next(stageB);
             })
             .handle(stageB, (r, ctx) ->
             {
                 if (!grid.acquire(ctx, r.key))
                 {
                     return Outcome.blocked();
                 }
                 grid.release(ctx, r.key);
                 return Outcome.done();
             });
        }

        Fixture start(final int workers)
        {
            pipeline = b.name("grid").workers(workers).onComplete((r, error) ->
            {
                if (error != null)
                {
                    errors.put(r, error);
                }
                completed.add(r);
            }).build().start();
            return this;
        }

        /** A key of {@code column} in this grid's hashing. */
        long keyIn(final int column, final int nth)
        {
            int found = 0;
            for (long k = 0; ; k++)
            {
                if (grid.columnOf(k) == column && found++ == nth)
                {
                    return k;
                }
            }
        }

        Suspension holdCell(final long key) throws InterruptedException
        {
            Submit.untilAccepted(pipeline, new Req(-1, key, "holder"));
            final Suspension s = held.poll(30, TimeUnit.SECONDS);
            assertTrue(s != null, "holder never reached the hold stage");
            return s;
        }
    }

    @Test
    void differentDataSetsAndTheSameDataSetInAnotherStageNeverWait() throws Exception
    {
        final Fixture f = new Fixture(1024).start(2);
        final Suspension holder = f.holdCell(f.keyIn(0, 0));

        // Each on its own data set, all at once, spread over both workers.
        final int n = 400;
        for (int i = 1; i <= n; i++)
        {
            Submit.untilAccepted(f.pipeline, new Req(i, f.keyIn(i, 0), "normal"));
        }
        // The held cell's data set in the other stage, one request after another.
        final int sameDataSet = 20;
        for (int i = 0; i < sameDataSet; i++)
        {
            final Req r = new Req(n + 1 + i, f.keyIn(0, i), "b-only");
            Submit.untilAccepted(f.pipeline, r);
            awaitTrue(() -> f.completed.contains(r), "stage b, data set 0 taken while stage a's cell is held");
        }
        // Everything completed while (a, data set 0) was held: nobody waited for it, nor for anyone else.
        awaitTrue(() -> f.completed.size() == n + sameDataSet, "requests on other cells completed while the cell was held");
        final ContentionReport report = f.grid.report();
        assertEquals(0, report.contended(), report.table());
        assertEquals(1, report.cell(0, 0).acquisitions());
        assertEquals(sameDataSet, report.cell(1, 0).acquisitions());
        assertEquals(n + 1, report.row(0).acquisitions());

        holder.resume(Outcome.next(f.releaseA));
        awaitTrue(() -> f.completed.size() == n + sameDataSet + 1, "holder completes");
        assertTrue(f.pipeline.shutdown(Duration.ofSeconds(10)).clean());
        assertEquals(Map.of(), f.errors);
        assertEquals(List.of(), List.copyOf(f.problems));
    }

    @Test
    void theSameStageAndDataSetAreSerialisedInFifoOrder() throws Exception
    {
        final Fixture f = new Fixture(16).start(2);
        final long key = f.keyIn(0, 0);
        final Suspension holder = f.holdCell(key);

        final int waiters = 12;
        final List<Req> submitted = new ArrayList<>();
        for (int i = 0; i < waiters; i++)
        {
            // Different keys of the same data set: they meet in one cell.
            final Req r = new Req(i, f.keyIn(0, i % 3), "normal");
            submitted.add(r);
            Submit.untilAccepted(f.pipeline, r);
            // Submit the next only once this one is queued, so arrival order is known; the requests
            // alternate between the two workers, so the queue is fed from both.
            final int queued = i + 1;
            awaitTrue(() -> f.grid.report().cell(0, 0).contended() == queued, "waiter " + queued + " parked");
        }
        assertEquals(1, f.enteredA.size(), "only the holder got in");

        holder.resume(Outcome.next(f.releaseA));
        awaitTrue(() -> f.completed.size() == waiters + 1, "all waiters served");
        assertTrue(f.pipeline.shutdown(Duration.ofSeconds(10)).clean());

        final List<Req> served = new ArrayList<>(f.enteredA);
        assertEquals(submitted, served.subList(1, served.size()), "first come, first served");
        assertEquals(List.of(), List.copyOf(f.problems));
        assertEquals(Map.of(), f.errors);
        final CellStats cell = f.grid.report().cell(0, 0);
        assertEquals(waiters + 1, cell.acquisitions());
        assertEquals(waiters, cell.contended());
        assertEquals(waiters, cell.waitTimes().getTotalCount(), "one wait time per granted waiter");
    }

    @Test
    void aCompletionWhileHoldingACellReleasesItToTheNextWaiterAndReportsTheMisuse() throws Exception
    {
        final Fixture f = new Fixture(16).start(1);
        final long key = f.keyIn(3, 0);
        final Suspension holder = f.holdCell(key);
        final Req waiter = new Req(1, key, "normal");
        Submit.untilAccepted(f.pipeline, waiter);
        awaitTrue(() -> f.grid.report().cell(0, 3).contended() == 1, "waiter parked");

        holder.resume(Outcome.done()); // completes in stage "hold" still holding (a, 3)
        awaitTrue(() -> f.completed.contains(waiter), "the waiter got the abandoned cell");

        // A request that forgets in the stage that took the cell: the next one still gets in.
        final Req forgets = new Req(2, key, "forgets");
        final Req after = new Req(3, key, "normal");
        Submit.untilAccepted(f.pipeline, forgets);
        Submit.untilAccepted(f.pipeline, after);
        awaitTrue(() -> f.completed.contains(after), "cell released after the forgetful request");
        assertTrue(f.pipeline.shutdown(Duration.ofSeconds(10)).clean());

        assertEquals(Map.of(), f.errors, "abandoning is reported, the requests themselves do not fail");
        assertEquals(2, f.grid.report().cell(0, 3).abandoned());
        assertEquals(2, f.grid.report().abandoned());
        assertEquals(1, f.pipeline.metrics().stage("hold").errors(), "runtime counts it on the completing stage");
        assertEquals(1, f.pipeline.metrics().stage("a").errors());
        assertTrue(CapturedLog.lines("still held 1 resource").size() >= 1);
        assertTrue(f.grid.report().table().contains("abandoned"));
    }

    @Test
    void aParkedRequestWhoseStageIgnoresFalseIsSkippedAndTheNextWaiterServed() throws Exception
    {
        final Fixture f = new Fixture(16).start(1);
        final long key = f.keyIn(5, 0);
        final Suspension holder = f.holdCell(key);
        final Req misbehaves = new Req(1, key, "ignores-false");
        final Req waiter = new Req(2, key, "normal");
        Submit.untilAccepted(f.pipeline, misbehaves);
        awaitTrue(() -> f.completed.contains(misbehaves), "misbehaving request completed at once");
        Submit.untilAccepted(f.pipeline, waiter);
        awaitTrue(() -> f.grid.report().cell(0, 5).contended() == 2, "waiter parked behind the cancelled one");

        holder.resume(Outcome.next(f.releaseA));
        awaitTrue(() -> f.completed.contains(waiter), "waiter served, cancelled waiter skipped");
        assertTrue(f.pipeline.shutdown(Duration.ofSeconds(10)).clean());

        final Throwable error = f.errors.get(misbehaves);
        assertInstanceOf(IllegalStateException.class, error);
        assertTrue(error.getMessage().contains("must return Outcome.blocked()"), error.getMessage());
        assertNull(f.errors.get(waiter));
        final CellStats cell = f.grid.report().cell(0, 5);
        assertEquals(1, cell.abandoned(), "the cancelled wait counts as abandoned");
        assertEquals(List.of(-1, 2), f.enteredA.stream().map(r -> r.id).toList(), "holder, then the waiter; never the cancelled one");
    }

    @Test
    void misuseFailsWithMessagesThatSayWhatToDo() throws Exception
    {
        final PipelineBuilder<String> b = Pipeline.builder();
        final StageRef<String> row = b.stage("row");
        final StageRef<String> notRow = b.stage("not-a-row");
        final StageRef<String> slow = b.stage("slow", Placement.blocking(1));
        final LockGrid grid = LockGrid.builder().name("misuse").rows(row).columns(4).build();
        final Map<String, Throwable> errors = new ConcurrentHashMap<>();
        final CountDownLatch done = new CountDownLatch(3);
        b.handle(row, (r, ctx) ->
        {
            if ("release-unheld".equals(r))
            {
                grid.release(ctx, 7);
            }
            return Outcome.next(notRow);
        }).handle(notRow, (r, ctx) ->
        {
            if ("acquire-elsewhere".equals(r))
            {
                grid.acquire(ctx, 7);
            }
            return Outcome.next(slow);
        }).handle(slow, (r, ctx) -> Outcome.done());
        final Pipeline<String> pipeline = b.name("misuse").workers(1).onComplete((r, e) ->
        {
            if (e != null)
            {
                errors.put(r, e);
            }
            done.countDown();
        }).build().start();
        for (final String r : List.of("release-unheld", "acquire-elsewhere", "fine"))
        {
            Submit.untilAccepted(pipeline, r);
        }
        assertTrue(done.await(30, TimeUnit.SECONDS));
        pipeline.shutdown(Duration.ofSeconds(5));

        assertInstanceOf(IllegalStateException.class, errors.get("release-unheld"));
        assertTrue(errors.get("release-unheld").getMessage().contains("does not hold lock-grid cell [stage 'row' x data set " +
            grid.columnOf(7) + "]"), errors.get("release-unheld").getMessage());
        assertInstanceOf(IllegalArgumentException.class, errors.get("acquire-elsewhere"));
        assertTrue(errors.get("acquire-elsewhere").getMessage().contains("is not a row of lock grid 'misuse'"));
        assertNull(errors.get("fine"));

        final IllegalArgumentException blockingRow = assertThrows(IllegalArgumentException.class,
            () -> LockGrid.builder().rows(slow));
        assertTrue(blockingRow.getMessage().contains("cannot park"), blockingRow.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LockGrid.builder().rows(row, row));
        assertThrows(IllegalStateException.class, () -> LockGrid.builder().build());
        assertThrows(IllegalArgumentException.class, () -> LockGrid.builder().columns(0));
    }

    @Test
    void keysSpreadOverAllColumnsAndMapStably()
    {
        final PipelineBuilder<String> b = Pipeline.builder();
        final LockGrid grid = LockGrid.builder().rows(b.stage("s")).columns(10).build();
        final int[] hits = new int[10];
        for (long k = 0; k < 10_000; k++)
        {
            final int c = grid.columnOf(k);
            assertEquals(c, grid.columnOf(k));
            hits[c]++;
        }
        for (final int h : hits)
        {
            assertTrue(h > 800 && h < 1200, "sequential keys spread evenly: " + Arrays.toString(hits));
        }
        final LockGrid wide = LockGrid.builder().rows(b.stage("u")).columns(64).build();
        final Set<Integer> sparse = new HashSet<>();
        for (int i = 0; i < 64; i++)
        {
            sparse.add(wide.columnOf((long)i << 40));
        }
        // 64 random throws into 64 columns hit about 41; a weak mix puts such keys in a few low columns.
        assertTrue(sparse.size() >= 32, "keys with few bits set spread too: " + sparse);
        final LockGrid single = LockGrid.builder().rows(b.stage("t")).columns(1).build();
        assertEquals(0, single.columnOf(Long.MIN_VALUE));
        assertEquals(0, single.columnOf(-1));
    }

    static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(1);
        }
    }
}
