package io.millrace.lock;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.millrace.lock.LockGridTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One worker, one held cell, many requests waiting for it: if waiting blocked the thread, the single
 * worker could run nothing else and the requests on other cells would never complete. The worker
 * thread's own wait and block counts (ThreadMXBean: every {@code LockSupport.park}, {@code wait} and
 * contended monitor entry adds to them) must not move while requests wait, and with a busy-spinning
 * idle strategy the pipeline's park count stays 0.
 */
class LockGridParksRequestsNotThreadsTest
{
    private record Req(long key, boolean holder)
    {
    }

    @Test
    void waitingRequestsParkWhileTheirWorkerRunsOtherRequests() throws Exception
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final StageRef<Req> lock = b.stage("lock");
        final StageRef<Req> hold = b.stage("hold");
        final StageRef<Req> unlock = b.stage("unlock");
        final LockGrid grid = LockGrid.builder().name("one-worker").rows(lock).columns(8).build();
        final LinkedBlockingQueue<Suspension> held = new LinkedBlockingQueue<>();
        final AtomicReference<Thread> worker = new AtomicReference<>();
        final AtomicInteger completed = new AtomicInteger();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        b.handle(lock, (r, ctx) ->
        {
            worker.set(Thread.currentThread());
            if (!grid.acquire(ctx, r.key()))
            {
                return Outcome.blocked();
            }
            return Outcome.next(r.holder() ? hold : unlock);
        }).handle(hold, (r, ctx) ->
        {
            held.add(ctx.suspend());
            return Outcome.blocked();
        }).handle(unlock, (r, ctx) ->
        {
            grid.release(ctx, lock, r.key());
            return Outcome.done();
        });
        final Pipeline<Req> pipeline = b.name("park").workers(1).idle(Idle.busySpin())
            .onComplete((r, error) ->
            {
                if (error != null)
                {
                    errors.add(error);
                }
                completed.incrementAndGet();
            }).build().start();

        // Warm-up on another cell: every path (park, hand-over, take-over) runs once, so that class
        // loading cannot show up in the thread's counts below.
        final long warmKey = keyIn(grid, 7);
        Submit.untilAccepted(pipeline, new Req(warmKey, true));
        final Suspension warmHolder = held.poll(30, TimeUnit.SECONDS);
        assertTrue(warmHolder != null);
        Submit.untilAccepted(pipeline, new Req(warmKey, false));
        awaitTrue(() -> grid.report().cell(0, 7).contended() == 1, "warm-up waiter parked");
        warmHolder.resume(Outcome.next(unlock));
        awaitTrue(() -> completed.get() == 2, "warm-up done");
        grid.report().table();
        completed.set(0);

        final long hotKey = keyIn(grid, 0);
        Submit.untilAccepted(pipeline, new Req(hotKey, true));
        final Suspension holder = held.poll(30, TimeUnit.SECONDS);
        assertTrue(holder != null);
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final ThreadInfo before = threads.getThreadInfo(worker.get().threadId());

        final int waiters = 200;
        for (int i = 0; i < waiters; i++)
        {
            Submit.untilAccepted(pipeline, new Req(hotKey, false));
        }
        awaitTrue(() -> grid.report().cell(0, 0).contended() == waiters, "all waiters parked");

        final int others = 1_000;
        for (int i = 0; i < others; i++)
        {
            Submit.untilAccepted(pipeline, new Req(keyIn(grid, 1 + i % 7), false));
        }
        // The one worker served all of these while 200 requests waited: it was never blocked.
        awaitTrue(() -> completed.get() == others, "requests on other cells completed while " + waiters + " waited");

        holder.resume(Outcome.next(unlock));
        awaitTrue(() -> completed.get() == others + waiters + 1, "every waiter served after the release");
        final ThreadInfo after = threads.getThreadInfo(worker.get().threadId());
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());

        assertEquals(0, errors.size(), errors.toString());
        assertEquals(before.getWaitedCount(), after.getWaitedCount(), "the worker thread never parked or waited");
        assertEquals(before.getBlockedCount(), after.getBlockedCount(), "the worker thread never blocked on a monitor");
        for (final WorkerMetrics w : pipeline.metrics().workers())
        {
            assertEquals(0, w.parks(), "busy-spinning worker never parks: " + w.threadName());
        }
        final CellStats hot = grid.report().cell(0, 0);
        assertEquals(waiters + 1, hot.acquisitions());
        assertEquals(waiters, hot.contended());
    }

    private static long keyIn(final LockGrid grid, final int column)
    {
        long k = 0;
        while (grid.columnOf(k) != column)
        {
            k++;
        }
        return k;
    }
}
