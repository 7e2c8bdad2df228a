package io.millrace.balance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Per-upstream limits: over one, the pick moves on, or reports BUSY for an immediate 503. */
class CircuitBreakerTest
{
    @Test
    void maxInFlightIsSummedOverWorkersAndMovesThePickOn()
    {
        final UpstreamGroup group = UpstreamGroup.builder().workers(2)
            .add(UpstreamSpec.ofEndpoint("a", "x").withLimits(0, 0, 2), UpstreamSpec.ofEndpoint("b", "x").withLimits(0, 0, 1))
            .build();
        final Balancer w0 = group.balancer(0, BalancePolicy.named("round-robin"));
        final Balancer w1 = group.balancer(1, BalancePolicy.named("round-robin"));
        final Upstream a = group.find("a");
        final Upstream b = group.find("b");
        w0.onStart(a);
        w1.onStart(a);
        for (int i = 0; i < 5; i++)
        {
            assertSame(b, w0.pick(null), "a has 2 in flight across the two workers");
        }
        w1.onStart(b);
        assertNull(w0.pick(null));
        assertEquals(PickFailure.BUSY, w0.lastFailure());
        w1.onEnd(a, 1, CallOutcome.NEUTRAL);
        assertSame(a, w0.pick(null));
    }

    @Test
    void maxPendingAndMaxConnectionsCount()
    {
        final UpstreamGroup group = UpstreamGroup.builder()
            .add(UpstreamSpec.ofEndpoint("a", "x").withLimits(2, 1, 0), UpstreamSpec.ofEndpoint("b", "x")).build();
        final Balancer w = group.balancer(0, BalancePolicy.named("least-conn"));
        final Upstream a = group.find("a");
        final Upstream b = group.find("b");
        w.pendingStarted(a);
        assertSame(b, w.pick(null), "a request already waits for a connection to a");
        w.pendingEnded(a);
        w.connectionOpened(a);
        w.connectionOpened(a);
        w.onStart(b);
        w.onStart(b);
        assertSame(b, w.pick(null), "two connections open to a and none idle here: a needs a third");
        w.connectionIdle(a);
        assertSame(a, w.pick(null), "an idle pooled connection to a: no new one needed");
        w.connectionReused(a);
        assertSame(b, w.pick(null));
        w.connectionClosed(a, false);
        assertSame(a, w.pick(null));
        assertEquals(1, a.stats().connections());
    }
}
