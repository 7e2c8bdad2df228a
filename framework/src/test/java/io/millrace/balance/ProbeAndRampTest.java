package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The active-probe state machine and schedule, re-admission with probes, and the slow-start ramp. */
class ProbeAndRampTest
{
    private final ManualClock clock = new ManualClock();

    @Test
    void probesFollowHaproxysRiseAndFallFromEachInitialState()
    {
        final Upstream up = probed(ProbeInitialState.UP);
        assertTrue(up.isAdmitted());
        assertTrue(up.probeFailed(), "init-state up: the first failure takes it down");
        assertEquals(UpstreamState.PROBE_DOWN, up.state());
        assertFalse(up.probeSucceeded());
        assertFalse(up.isAdmitted(), "one of rise=2");
        assertTrue(up.probeSucceeded());
        assertTrue(up.isAdmitted());
        assertFalse(up.probeFailed());
        assertFalse(up.probeFailed());
        assertTrue(up.isAdmitted(), "now fully up: fall=3 failures needed");
        assertTrue(up.probeFailed());
        assertFalse(up.isAdmitted());
        assertFalse(up.probeSucceeded());
        assertFalse(up.probeFailed(), "a failure while rising starts the rise over");
        assertFalse(up.probeSucceeded());
        assertTrue(up.probeSucceeded());

        final Upstream fullyUp = probed(ProbeInitialState.FULLY_UP);
        assertFalse(fullyUp.probeFailed());
        assertFalse(fullyUp.probeFailed());
        assertTrue(fullyUp.probeFailed(), "the third of fall=3");

        final Upstream down = probed(ProbeInitialState.DOWN);
        assertFalse(down.isAdmitted());
        assertTrue(down.probeSucceeded(), "init-state down: the first success brings it up");

        final Upstream fullyDown = probed(ProbeInitialState.FULLY_DOWN);
        assertFalse(fullyDown.probeSucceeded());
        assertTrue(fullyDown.probeSucceeded());
    }

    @Test
    void aDueProbeIsWonByExactlyOneCallerAndTheNextIsAnIntervalOn()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).probes(Duration.ofSeconds(2), 2, 3)
            .add(HashPolicyTest.specs(2, 1)).build();
        final Upstream u = group.find("u0");
        final long now = clock.getAsLong();
        assertTrue(u.probeDue(now));
        assertEquals(0, group.nanosUntilNextProbe(now));
        assertTrue(u.tryStartProbe(now));
        assertFalse(u.tryStartProbe(now), "already claimed");
        assertEquals(now + Duration.ofSeconds(2).toNanos(), u.nextProbeAt());
        final List<Upstream> due = group.claimDueProbes(now);
        assertEquals(List.of(group.find("u1")), due);
        assertEquals(Duration.ofSeconds(2).toNanos(), group.nanosUntilNextProbe(now));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(2, group.claimDueProbes(clock.getAsLong()).size());

        final UpstreamGroup none = UpstreamGroup.builder().add(HashPolicyTest.specs(1, 1)).build();
        assertEquals(-1, none.nanosUntilNextProbe(0));
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> none.find("u0").probeFailed());
        assertTrue(e.getMessage().contains("probes(interval, rise, fall)"), e.getMessage());
    }

    @Test
    void withProbesAPassivelyEjectedServerNeedsItsTimeAndRiseSuccesses()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(1, Duration.ofSeconds(10))
            .probes(Duration.ofSeconds(1), 2, 3).add(HashPolicyTest.specs(2, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u = group.find("u0");
        RoundRobinTest.fail(b, u);
        u.probeSucceeded();
        u.probeSucceeded();
        assertFalse(u.isAdmitted(), "probes say up, but the ejection lasts 10 s");
        clock.advance(Duration.ofSeconds(10));
        assertTrue(u.isAdmitted());

        RoundRobinTest.fail(b, u);
        clock.advance(Duration.ofSeconds(30));
        assertFalse(u.isAdmitted(), "the ejection is over, but no probe has succeeded since");
        assertEquals(UpstreamState.PROBE_DOWN, u.state());
        u.probeSucceeded();
        assertFalse(u.isAdmitted());
        u.probeSucceeded();
        assertTrue(u.isAdmitted(), "rise=2 successes");
        for (int i = 0; i < 4; i++)
        {
            assertNotSame(null, b.pick(null));
        }
    }

    @Test
    void slowStartRampsAReadmittedServersWeight()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(1, Duration.ofSeconds(10))
            .slowStart(Duration.ofSeconds(10)).add(HashPolicyTest.specs(2, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u = group.find("u0");
        assertEquals(UpstreamState.UP, u.state(), "no ramp for a server that was never out");
        assertEquals(0.5, share(b, u), 0.01);
        RoundRobinTest.fail(b, u);
        clock.advance(Duration.ofSeconds(10));
        assertEquals(UpstreamState.SLOW_START, u.state());
        assertTrue(share(b, u) < 0.03, "just back: almost nothing");
        clock.advance(Duration.ofSeconds(2));
        assertEquals(200, u.stats().effectiveWeight(), "20% of its weight 2 s into a 10 s ramp");
        assertEquals(0.2 / 1.2, share(b, u), 0.01);
        clock.advance(Duration.ofSeconds(5));
        assertEquals(0.7 / 1.7, share(b, u), 0.01);
        clock.advance(Duration.ofSeconds(3));
        assertEquals(UpstreamState.UP, u.state());
        assertEquals(0.5, share(b, u), 0.01);
    }

    @Test
    void probesBringingAServerBackAlsoStartItsRamp()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).probes(Duration.ofSeconds(1), 1, 1)
            .slowStart(Duration.ofSeconds(4)).add(HashPolicyTest.specs(2, 1)).build();
        final Upstream u = group.find("u0");
        u.probeSucceeded();
        assertEquals(UpstreamState.UP, u.state(), "the first rise of a server that started up is no recovery");
        u.probeFailed();
        clock.advance(Duration.ofSeconds(5));
        u.probeSucceeded();
        assertEquals(UpstreamState.SLOW_START, u.state());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(250, u.stats().effectiveWeight());
    }

    private Upstream probed(final ProbeInitialState state)
    {
        return UpstreamGroup.builder().clock(clock).probes(Duration.ofSeconds(1), 2, 3).probeInitialState(state)
            .add(HashPolicyTest.specs(1, 1)).build().find("u0");
    }

    /** @return u's share of 1000 round-robin picks at the clock's current reading */
    private static double share(final Balancer b, final Upstream u)
    {
        int n = 0;
        for (int i = 0; i < 1000; i++)
        {
            if (b.pick(null) == u)
            {
                n++;
            }
        }
        return n / 1000.0;
    }
}
