package io.millrace.lock;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.millrace.lock.LockGridTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release of a cell to a waiter that lives on the releasing worker: the waiter runs as soon as
 * the releasing dispatch returns, before the rest of the worker's inbox batch, and waiters are still
 * served first come, first served.
 *
 * <p>Pipeline: {@code gate -> take (row) -> hold -> give}. A "holder" takes the cell and parks in
 * {@code hold} until the test resumes it into {@code give}, which releases; a "gate" request spins
 * in its stage until the test opens it, so that whatever the test publishes meanwhile reaches the
 * worker as one inbox batch.
 */
class LockGridHandOffTest
{
    /** A request: its name, and what it does. */
    record Req(String name, String kind)
    {
        @Override
        public String toString()
        {
            return name;
        }
    }

    private static final class Fixture
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> gate = b.stage("gate");
        final StageRef<Req> take = b.stage("take");
        final StageRef<Req> hold = b.stage("hold");
        final StageRef<Req> give = b.stage("give");
        final LockGrid grid = LockGrid.builder().name("hand-off").rows(take).columns(1).build();
        final LinkedBlockingQueue<Suspension> held = new LinkedBlockingQueue<>();
        final ConcurrentLinkedQueue<Req> entered = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Req> completed = new ConcurrentLinkedQueue<>();
        final Map<Req, Throwable> errors = new ConcurrentHashMap<>();
        final AtomicBoolean gateOpen = new AtomicBoolean();
        final AtomicBoolean gateReached = new AtomicBoolean();
        final AtomicInteger inside = new AtomicInteger();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        final Pipeline<Req> pipeline;

        Fixture(final int workers)
        {
            b.handle(gate, (r, ctx) ->
                {
                    if ("gate".equals(r.kind()))
                    {
                        gateReached.set(true);
                        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                        while (!gateOpen.get() && System.nanoTime() < deadline)
                        {
                            Thread.onSpinWait();
                        }
                        return Outcome.done();
                    }
                    return Outcome.next(take);
                })
                .handle(take, (r, ctx) ->
                {
                    if (!grid.acquire(ctx, 0L))
                    {
                        return Outcome.blocked();
                    }
                    if (inside.incrementAndGet() != 1)
                    {
                        problems.add(r + " entered while another request held the cell");
                    }
                    entered.add(r);
                    inside.decrementAndGet();
                    if ("holder".equals(r.kind()))
                    {
                        return Outcome.next(hold);
                    }
                    grid.release(ctx, 0L);
                    return Outcome.done();
                })
                .handle(hold, (r, ctx) ->
                {
                    held.add(ctx.suspend());
                    return Outcome.blocked();
                })
                .handle(give, (r, ctx) ->
                {
                    grid.release(ctx, take, 0L);
                    return Outcome.done();
                });
            pipeline = b.name("hand-off").workers(workers).onComplete((r, error) ->
            {
                if (error != null)
                {
                    errors.put(r, error);
                }
                completed.add(r);
            }).build().start();
        }

        Suspension holdCell() throws InterruptedException
        {
            Submit.untilAccepted(pipeline, new Req("holder", "holder"));
            final Suspension s = held.poll(30, TimeUnit.SECONDS);
            assertTrue(s != null, "holder never reached the hold stage");
            return s;
        }

        /** Submits a request that parks on the cell, and waits until it is queued there. */
        void park(final Req r, final int queuedBefore) throws InterruptedException
        {
            Submit.untilAccepted(pipeline, r);
            awaitTrue(() -> grid.report().cell(0, 0).contended() == queuedBefore + 1, r + " parked on the cell");
        }

        void closeAndCheck(final int requests) throws InterruptedException
        {
            awaitTrue(() -> completed.size() == requests, "all " + requests + " requests completed");
            assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
            assertEquals(Map.of(), errors);
            assertEquals(List.of(), List.copyOf(problems));
        }
    }

    @Test
    void aWaiterOnTheReleasingWorkerRunsBeforeTheRestOfTheBatch() throws Exception
    {
        final Fixture f = new Fixture(1);
        final Suspension holder = f.holdCell();
        final Req waiter = new Req("waiter", "normal");
        f.park(waiter, 0);

        // Block the worker, then publish the holder's resume and two newcomers behind it: one batch.
        Submit.untilAccepted(f.pipeline, new Req("gate", "gate"));
        awaitTrue(f.gateReached::get, "the gate request holds the worker");
        holder.resume(Outcome.next(f.give));
        final Req c = new Req("c", "normal");
        final Req d = new Req("d", "normal");
        Submit.untilAccepted(f.pipeline, c);
        Submit.untilAccepted(f.pipeline, d);
        f.gateOpen.set(true);
        f.closeAndCheck(5);

        assertEquals(List.of("holder", "waiter", "c", "d"), f.entered.stream().map(Req::name).toList(), "FIFO");
        // The holder's release handed the cell to the waiter on this same worker. Had the waiter run
        // only after the batch (as it did before), c and d would have found the cell held by it and
        // parked behind it: 3 contended acquisitions. It ran at once, so they found the cell free.
        final CellStats cell = f.grid.report().cell(0, 0);
        assertEquals(1, cell.contended(), cell.toString());
        assertEquals(4, cell.acquisitions());
    }

    @Test
    void aLongChainOfLocalHandOffsServesEveryWaiterInOrder() throws Exception
    {
        final Fixture f = new Fixture(1);
        final Suspension holder = f.holdCell();
        // More waiters than one dispatch runs as hand-offs: the rest go on from the front of the
        // local queue, still in order.
        final int waiters = 3 * 64 + 5;
        final List<String> expected = new ArrayList<>();
        expected.add("holder");
        for (int i = 0; i < waiters; i++)
        {
            final Req r = new Req("w" + i, "normal");
            f.park(r, i);
            expected.add(r.name());
        }
        // Newcomers published behind the release, in the same batch: they queue behind every waiter.
        Submit.untilAccepted(f.pipeline, new Req("gate", "gate"));
        awaitTrue(f.gateReached::get, "the gate request holds the worker");
        holder.resume(Outcome.next(f.give));
        for (int i = 0; i < 10; i++)
        {
            final Req r = new Req("n" + i, "normal");
            Submit.untilAccepted(f.pipeline, r);
            expected.add(r.name());
        }
        f.gateOpen.set(true);
        f.closeAndCheck(1 + waiters + 1 + 10);
        assertEquals(expected, f.entered.stream().map(Req::name).toList(), "first come, first served");
    }

    @Test
    void waitersOfTwoWorkersAreServedInTheOrderTheyParked() throws Exception
    {
        final Fixture f = new Fixture(2);
        final Suspension holder = f.holdCell();
        // Submissions alternate between the workers; each is queued before the next is sent, so the
        // order of the queue is known, and releases alternate between local and remote hand-offs.
        final int waiters = 40;
        final List<String> expected = new ArrayList<>();
        expected.add("holder");
        for (int i = 0; i < waiters; i++)
        {
            final Req r = new Req("w" + i, "normal");
            f.park(r, i);
            expected.add(r.name());
        }
        holder.resume(Outcome.next(f.give));
        f.closeAndCheck(1 + waiters);
        assertEquals(expected, f.entered.stream().map(Req::name).toList(), "first come, first served");
    }
}
