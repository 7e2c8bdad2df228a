package io.millrace.lock;

import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The lock grid's per-cell protocol ({@link Cell}, {@link Waiter}): requests are {@link TestRequest}
 * contexts (the runtime's suspension state machine without a pipeline); the arbiter plays the home
 * worker that runs a resumed request's stage again (acquire takes the grant over, then release).
 * After every race the cell must have exactly the owner the protocol says and end free.
 */
public final class CellHandOverStress
{
    /** The row every test cell is in; the grid only lends cells its waiter caches and names. */
    static final StageRef<Object> ROW = new StageRef<>(new Object(), "row", 0, Placement.inline());
    static final LockGrid GRID = LockGrid.builder().name("jcstress").rows(ROW).columns(1).build();

    private CellHandOverStress()
    {
    }

    static Cell newCell()
    {
        return new Cell(GRID, 0, 0);
    }

    /** Free, with no owner, grant or queued waiter left behind. */
    static boolean free(final Cell cell)
    {
        return cell.state == null && cell.owner == null && cell.granted == null && cell.fifo == null;
    }

    static void mustAcquire(final Cell cell, final TestRequest request)
    {
        if (!cell.acquire(request))
        {
            throw new IllegalStateException("setup: acquire of a free cell parked");
        }
    }

    static void mustPark(final Cell cell, final TestRequest request)
    {
        if (cell.acquire(request))
        {
            throw new IllegalStateException("setup: acquire of a held cell did not park");
        }
    }

    /**
     * The home worker runs a resumed request's stage again: acquire must find the request owns the
     * cell (and take the grant over), then the stage releases it.
     *
     * @return whether acquire returned true
     */
    static boolean rerunAndRelease(final Cell cell, final TestRequest request)
    {
        request.takeResume();
        if (!cell.acquire(request))
        {
            return false;
        }
        cell.release(request);
        return true;
    }

    @JCStressTest
    @Description("A holds the cell. A's stage releases it while B's stage acquires it. Result: (B's acquire " +
        "returned true, resume() calls on B, who resumed B: 0 nobody / 1 another thread / 2 B's own thread, " +
        "B owned the cell when its stage ran again, cell free and B holding nothing after B released). B either " +
        "takes the freed cell at once or parks and is resumed exactly once, owning the cell.")
    @Outcome(id = "1, 0, 0, 1, 1", expect = ACCEPTABLE, desc = "A released first; B took the free cell")
    @Outcome(id = "0, 1, 1, 1, 1", expect = ACCEPTABLE, desc = "B parked; A's release handed the cell over and resumed B")
    @Outcome(id = "0, 1, 2, 1, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "B parked, the cell was freed before B's push: B took it and granted it to itself")
    @Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "lost wake-up: B parked and nobody resumed it")
    @Outcome(expect = FORBIDDEN, desc = "a second resume, a wrong owner, or a cell left held")
    @State
    public static class ReleaseVsAcquire
    {
        final Cell cell = newCell();
        final TestRequest a = new TestRequest(ROW);
        final TestRequest b = new TestRequest(ROW);

        public ReleaseVsAcquire()
        {
            mustAcquire(cell, a);
        }

        @Actor
        public void releaser()
        {
            cell.release(a);
        }

        @Actor
        public void acquirer(final IIIII_Result r)
        {
            r.r1 = cell.acquire(b) ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIIII_Result r)
        {
            r.r2 = b.resumeCalls();
            r.r3 = b.resumedBy();
            final boolean ownsIt = cell.owner == b;
            boolean rerun = false;
            if (r.r1 == 1)
            {
                cell.release(b);
                rerun = true;
            }
            else if (b.resumes() == 1)
            {
                rerun = rerunAndRelease(cell, b);
            }
            r.r4 = ownsIt && rerun ? 1 : 0;
            r.r5 = free(cell) && a.heldCount() == 0 && b.heldCount() == 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("A holds the cell, B is parked on it. A's stage releases (handing over to B) while B's request " +
        "gives up the wait (its cancel token or deadline fired while parked, or its stage did not return blocked()): " +
        "the runtime wins B's suspension back, and completing B calls Waiter.releaseAbandoned, whose CAS " +
        "WAITING->CANCELLED races the releaser's grant. Result: (B's side: " +
        "1 withdrew the suspension and abandoned / 2 found it already resumed, successful resumes of B, " +
        "abandoned count of the cell, B owned the cell afterwards, cell free at the end). Exactly one of " +
        "'granted' and 'cancelled' happens; the cell is never lost.")
    @Outcome(id = "2, 1, 0, 1, 1", expect = ACCEPTABLE,
        desc = "granted: resumed with the cell before the completion; the request continues and releases")
    @Outcome(id = "1, 0, 1, 0, 1", expect = ACCEPTABLE,
        desc = "cancelled: the waiter was cancelled first; the releaser skipped it and freed the cell")
    @Outcome(id = "1, 0, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "cancelled after the grant: resume() threw, the releaser kept the cell and freed it; releaseAbandoned waited")
    @Outcome(expect = FORBIDDEN, desc = "both or neither, a cell left held or owned by a gone request")
    @State
    public static class AbandonVsGrant
    {
        final Cell cell = newCell();
        final TestRequest a = new TestRequest(ROW);
        final TestRequest b = new TestRequest(ROW);

        public AbandonVsGrant()
        {
            mustAcquire(cell, a);
            mustPark(cell, b);
        }

        @Actor
        public void releaser()
        {
            cell.release(a);
        }

        @Actor
        public void abandoner(final IIIII_Result r)
        {
            // Exchange.cancelParked (token or deadline) or cancelSuspension (stage misuse): win the suspension.
            if (b.cancelSuspension())
            {
                b.releaseAbandoned(); // StageRunner.complete -> Exchange.releaseAbandoned -> Waiter.releaseAbandoned
                r.r1 = 1;
            }
            else
            {
                r.r1 = 2; // a resumer already took it: the request goes on from the resume event
            }
        }

        @Arbiter
        public void arbiter(final IIIII_Result r)
        {
            r.r2 = b.resumes();
            r.r3 = (int)cell.abandonedCount();
            r.r4 = cell.owner == b ? 1 : 0;
            boolean rerunOk = true;
            if (r.r2 == 1)
            {
                rerunOk = rerunAndRelease(cell, b);
            }
            r.r5 = rerunOk && free(cell) && a.heldCount() == 0 && b.heldCount() == 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("A holds the cell, B is parked on it. A's stage releases while a newcomer C acquires. Result: " +
        "(C's acquire returned true, B resumed, C resumed once B's stage ran again and released, cell free at " +
        "the end). The cell goes straight from A to B and never through free, so C always parks, behind B.")
    @Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE, desc = "C parked; A -> B -> C, first come first served")
    @Outcome(id = "1, .*", expect = FORBIDDEN, desc = "C took the cell during the hand-over: two owners")
    @Outcome(expect = FORBIDDEN, desc = "B skipped or not resumed, C lost, or a cell left held")
    @State
    public static class HandOverVsNewcomer
    {
        final Cell cell = newCell();
        final TestRequest a = new TestRequest(ROW);
        final TestRequest b = new TestRequest(ROW);
        final TestRequest c = new TestRequest(ROW);

        public HandOverVsNewcomer()
        {
            mustAcquire(cell, a);
            mustPark(cell, b);
        }

        @Actor
        public void releaser()
        {
            cell.release(a);
        }

        @Actor
        public void newcomer(final IIII_Result r)
        {
            r.r1 = cell.acquire(c) ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r2 = b.resumes() == 1 && cell.owner == b ? 1 : 0;
            if (r.r1 == 1)
            {
                r.r3 = 0;
                r.r4 = 0;
                return;
            }
            boolean ok = b.resumes() == 1 && rerunAndRelease(cell, b);
            r.r3 = c.resumes() == 1 && cell.owner == c ? 1 : 0;
            ok &= c.resumes() == 1 && rerunAndRelease(cell, c);
            r.r4 = ok && free(cell) && b.heldCount() == 0 && c.heldCount() == 0 ? 1 : 0;
        }
    }
}
