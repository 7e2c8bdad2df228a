package io.millrace.worker;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link Inbox}'s parking handshake, as {@code Worker.idleTurn} and {@code Worker.tryPublish} use it:
 * the owner announces parking and looks at the ring once more; a producer publishes, then claims
 * the wake. A worker that parks must be woken by some producer whose event is in its ring.
 */
public final class InboxParkingStress
{
    private InboxParkingStress()
    {
    }

    /** An inbox whose sequences are past their initial values: one event published and consumed. */
    static Inbox usedInbox()
    {
        final Inbox inbox = new Inbox(8);
        if (!inbox.tryPublish(InboxEvent.SUBMIT, "warm", null, 0, null, 0L, null))
        {
            throw new IllegalStateException("setup: publish failed");
        }
        try
        {
            inbox.poll((event, sequence, endOfBatch) ->
            {
                event.clear();
                return true;
            });
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
        return inbox;
    }

    @JCStressTest
    @Description("Owner: announceParking(), then park if it returned true (else clearParking()). Producer: " +
        "tryPublish(), then claimWake(). Result: (owner parks, producer won the wake, events in the ring). " +
        "The owner must never park with the producer's event in its ring while no producer wakes it.")
    @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "owner parks; the producer saw the announcement and wakes it")
    @Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "owner saw the event and stays awake; no wake needed")
    @Outcome(id = "0, 1, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "owner saw the event and stays awake, the producer still took the announcement: a spare unpark, harmless")
    @Outcome(id = "1, 0, 1", expect = FORBIDDEN, desc = "lost wake-up: owner parks with an event in its ring, nobody wakes it")
    @Outcome(expect = FORBIDDEN, desc = "the publish failed or the ring lost the event")
    @State
    public static class ParkVsPublish
    {
        final Inbox inbox = usedInbox();

        @Actor
        public void owner(final III_Result r)
        {
            final boolean park = inbox.announceParking();
            if (!park)
            {
                inbox.clearParking(); // Worker.idleTurn: no idle, withdraw at once
            }
            // When parking, the worker idles and withdraws only after it wakes: not here.
            r.r1 = park ? 1 : 0;
        }

        @Actor
        public void producer(final III_Result r)
        {
            if (!inbox.tryPublish(InboxEvent.SUBMIT, "request", null, 0, null, 0L, null))
            {
                r.r2 = -1;
                return;
            }
            r.r2 = inbox.claimWake() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final III_Result r)
        {
            r.r3 = (int)inbox.depth();
        }
    }

    @JCStressTest
    @Description("The owner announced parking on an empty ring and parks. Two producers each publish and claim the " +
        "wake. Result: (producer 1 won, producer 2 won, events in the ring, wakes counted). Exactly one wins: " +
        "none would leave the owner asleep with two events, two would count a wake twice.")
    @Outcome(id = {"1, 0, 2, 1", "0, 1, 2, 1"}, expect = ACCEPTABLE, desc = "exactly one producer wakes the owner")
    @Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "lost wake-up: the owner sleeps with two events in its ring")
    @Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both producers won the same announcement")
    @Outcome(expect = FORBIDDEN, desc = "a publish failed, or the wake count is wrong")
    @State
    public static class TwoProducersOneWake
    {
        final Inbox inbox = usedInbox();

        public TwoProducersOneWake()
        {
            if (!inbox.announceParking())
            {
                throw new IllegalStateException("setup: the ring is empty, the owner must be able to park");
            }
        }

        @Actor
        public void producer1(final IIII_Result r)
        {
            r.r1 = inbox.tryPublish(InboxEvent.SUBMIT, "a", null, 0, null, 0L, null) ? (inbox.claimWake() ? 1 : 0) : -1;
        }

        @Actor
        public void producer2(final IIII_Result r)
        {
            r.r2 = inbox.tryPublish(InboxEvent.SUBMIT, "b", null, 0, null, 0L, null) ? (inbox.claimWake() ? 1 : 0) : -1;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = (int)inbox.depth();
            r.r4 = (int)inbox.wakes();
        }
    }
}
