package io.millrace.worker;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link InFlightGate}: admission (tryAcquire), completion (release) and shutdown (close) race on
 * one word. Result codes of tryAcquire: 0 OK, 1 FULL, 2 CLOSED.
 */
public final class InFlightGateStress
{
    private InFlightGateStress()
    {
    }

    @JCStressTest
    @Description("Shutdown closes the gate while a submitter acquires: either the acquire got in and close()'s " +
        "count includes it, or the acquire saw CLOSED. Never admitted and missed by close (shutdown would not wait " +
        "for that request).")
    @Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "acquired first; close counted it")
    @Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "closed first; the acquire saw CLOSED")
    @Outcome(expect = FORBIDDEN, desc = "admitted after close, or a count that misses an admitted request")
    @State
    public static class CloseVsAcquire
    {
        final InFlightGate gate = new InFlightGate(4);

        public CloseVsAcquire()
        {
            gate.open();
        }

        @Actor
        public void submitter(final III_Result r)
        {
            r.r1 = gate.tryAcquire();
        }

        @Actor
        public void shutdown(final III_Result r)
        {
            r.r2 = (int)gate.close();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)gate.inFlight();
        }
    }

    @JCStressTest
    @Description("Two submitters race for the last slot (max 1): exactly one is admitted, the other sees FULL.")
    @Outcome(id = {"0, 1, 1", "1, 0, 1"}, expect = ACCEPTABLE, desc = "one admitted, the other refused FULL")
    @Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "both admitted: the in-flight bound was exceeded")
    @Outcome(expect = FORBIDDEN, desc = "a refusal while a slot was free, or a count that does not match")
    @State
    public static class BoundOfOne
    {
        final InFlightGate gate = new InFlightGate(1);

        public BoundOfOne()
        {
            gate.open();
        }

        @Actor
        public void submitter1(final III_Result r)
        {
            r.r1 = gate.tryAcquire();
        }

        @Actor
        public void submitter2(final III_Result r)
        {
            r.r2 = gate.tryAcquire();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)gate.inFlight();
        }
    }

    @JCStressTest
    @Description("At the bound (max 1, one in flight) a completion releases while a submitter acquires: the " +
        "acquire is admitted only after the release, and the count ends consistent.")
    @Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "released first; the acquire took the freed slot")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "acquired first and saw FULL; the release freed the slot")
    @Outcome(expect = FORBIDDEN, desc = "admitted beyond the bound, or a lost or extra count")
    @State
    public static class ReleaseVsAcquireAtBound
    {
        final InFlightGate gate = new InFlightGate(1);

        public ReleaseVsAcquireAtBound()
        {
            gate.open();
            if (gate.tryAcquire() != InFlightGate.OK)
            {
                throw new IllegalStateException("setup: the first acquire failed");
            }
        }

        @Actor
        public void submitter(final III_Result r)
        {
            r.r1 = gate.tryAcquire();
        }

        @Actor
        public void completion()
        {
            gate.release();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r2 = (int)gate.inFlight();
            r.r3 = gate.tryAcquire(); // the count and the bound agree: FULL at 1, OK at 0
        }
    }

    @JCStressTest
    @Description("Shutdown closes while the last request completes: close() counts it or not, and afterwards the " +
        "count is zero and the gate stays closed.")
    @Outcome(id = {"1, 0, 2", "0, 0, 2"}, expect = ACCEPTABLE, desc = "closed before or after the completion; drained and closed")
    @Outcome(expect = FORBIDDEN, desc = "the completion was lost, or the release reopened the gate")
    @State
    public static class CloseVsRelease
    {
        final InFlightGate gate = new InFlightGate(4);

        public CloseVsRelease()
        {
            gate.open();
            if (gate.tryAcquire() != InFlightGate.OK)
            {
                throw new IllegalStateException("setup: the first acquire failed");
            }
        }

        @Actor
        public void shutdown(final III_Result r)
        {
            r.r1 = (int)gate.close();
        }

        @Actor
        public void completion()
        {
            gate.release();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r2 = (int)gate.inFlight();
            r.r3 = gate.tryAcquire();
        }
    }

    @JCStressTest
    @Description("Shutdown closes the gate and then reads the publishing count, while a submitter admits a request " +
        "counted as publishing, hands it over and lowers the count. If the submitter got in, close() counted it in " +
        "flight, so the shutdown waits for it; the publishing count never goes negative and ends at zero.")
    @Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "admitted first; counted in flight; published")
    @Outcome(id = "2, 0, 0", expect = ACCEPTABLE, desc = "closed first; refused")
    @Outcome(expect = FORBIDDEN, desc = "admitted but missed by close, or a publishing count left over")
    @State
    public static class PublishingVsClose
    {
        final InFlightGate gate = new InFlightGate(4);

        public PublishingVsClose()
        {
            gate.open();
        }

        @Actor
        public void submitter(final III_Result r)
        {
            final int admitted = gate.tryAcquirePublishing();
            r.r1 = admitted;
            if (admitted == InFlightGate.OK)
            {
                gate.published();
            }
        }

        @Actor
        public void shutdown(final III_Result r)
        {
            r.r2 = (int)gate.close();
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)gate.publishing();
        }
    }
}
