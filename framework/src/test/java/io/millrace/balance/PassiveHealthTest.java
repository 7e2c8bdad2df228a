package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nginx's max-fails within fail-timeout, probation after re-admission, back-off, Envoy's ejection cap. */
class PassiveHealthTest
{
    private final ManualClock clock = new ManualClock();

    @Test
    void maxFailsWithinFailTimeoutEjectsForFailTimeout()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(3, Duration.ofSeconds(10))
            .add(HashPolicyTest.specs(2, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u = group.find("u0");
        RoundRobinTest.fail(b, u);
        RoundRobinTest.fail(b, u);
        clock.advance(Duration.ofSeconds(11));
        RoundRobinTest.fail(b, u);
        assertEquals(UpstreamState.UP, u.state(), "three failures, but not within 10 s");
        succeed(b, u);
        RoundRobinTest.fail(b, u);
        assertEquals(UpstreamState.UP, u.state(), "successes do not reset the window (as nginx)");
        RoundRobinTest.fail(b, u);
        assertEquals(UpstreamState.EJECTED, u.state(), "the third within the window");
        assertEquals(1, u.stats().ejections());
        for (int i = 0; i < 10; i++)
        {
            assertNotSame(u, b.pick(null));
        }
        // Attempts that were under way when it was ejected fail too: that changes nothing.
        RoundRobinTest.fail(b, u);
        clock.advance(Duration.ofMillis(9_999));
        assertFalse(u.isAdmitted());
        clock.advance(Duration.ofMillis(1));
        assertTrue(u.isAdmitted(), "back when the ejection ends, fail-timeout after it began");
        assertEquals(1, u.stats().ejections());
        assertEquals(6, u.failures(), "every failure is counted, the ignored one too");
    }

    @Test
    void aReadmittedServerIsOnProbationUntilItsFirstSuccess()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(3, Duration.ofSeconds(10))
            .add(HashPolicyTest.specs(2, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u = group.find("u0");
        ejectWith(b, u, 3);
        clock.advance(Duration.ofSeconds(10));
        RoundRobinTest.fail(b, u);
        assertEquals(UpstreamState.EJECTED, u.state(), "one failure on probation re-ejects (nginx: fails stays at max)");
        clock.advance(Duration.ofSeconds(20));
        assertTrue(u.isAdmitted(), "the second ejection in a row lasted twice as long");
        succeed(b, u);
        RoundRobinTest.fail(b, u);
        assertEquals(UpstreamState.UP, u.state(), "off probation, it takes max-fails again");
    }

    @Test
    void repeatedEjectionsBackOffExponentiallyUpToTheCapAndTheRowBreaks()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(1, Duration.ofSeconds(10))
            .maxEjection(Duration.ofSeconds(60)).add(HashPolicyTest.specs(2, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u = group.find("u0");
        final long[] expected = {10, 20, 40, 60, 60};
        for (final long seconds : expected)
        {
            RoundRobinTest.fail(b, u);
            assertEquals(UpstreamState.EJECTED, u.state());
            clock.advance(Duration.ofSeconds(seconds).minusMillis(1));
            assertFalse(u.isAdmitted(), "still out just before " + seconds + " s");
            clock.advance(Duration.ofMillis(1));
            assertTrue(u.isAdmitted(), "back after " + seconds + " s");
        }
        succeed(b, u);
        clock.advance(Duration.ofSeconds(60));
        RoundRobinTest.fail(b, u);
        clock.advance(Duration.ofSeconds(10));
        assertTrue(u.isAdmitted(), "in for the whole cap: the row is broken, back to fail-timeout");
        assertEquals(6, u.stats().ejections());
    }

    @Test
    void maxEjectionPercentCapsTheShareEjectedAtOnce()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).maxEjectionPercent(50)
            .add(HashPolicyTest.specs(4, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        for (int i = 0; i < 4; i++)
        {
            RoundRobinTest.fail(b, group.find("u" + i));
        }
        assertEquals(UpstreamState.EJECTED, group.find("u0").state());
        assertEquals(UpstreamState.EJECTED, group.find("u1").state());
        assertEquals(UpstreamState.UP, group.find("u2").state(), "half are out already");
        assertEquals(1, group.find("u2").stats().refusedEjections());
        assertEquals(UpstreamState.UP, group.find("u3").state());
        clock.advance(Duration.ofSeconds(10));
        RoundRobinTest.fail(b, group.find("u2"));
        assertEquals(UpstreamState.EJECTED, group.find("u2").state(), "room again once the others are back");

        final UpstreamGroup lone = UpstreamGroup.builder().clock(clock).maxEjectionPercent(0)
            .add(HashPolicyTest.specs(1, 1)).build();
        final Balancer lb = lone.balancer(0, BalancePolicy.named("round-robin"));
        RoundRobinTest.fail(lb, lone.find("u0"));
        assertEquals(UpstreamState.EJECTED, lone.find("u0").state(), "one may always be ejected (Envoy's rule)");
    }

    @Test
    void maxFailsZeroNeverEjectsAndUpstreamsOverrideTheGroup()
    {
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(0, Duration.ofSeconds(5))
            .add(UpstreamSpec.ofEndpoint("never", "x"), UpstreamSpec.ofEndpoint("quick", "x").withMaxFails(2)
                .withFailTimeout(Duration.ofSeconds(1))).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        for (int i = 0; i < 50; i++)
        {
            RoundRobinTest.fail(b, group.find("never"));
        }
        assertEquals(UpstreamState.UP, group.find("never").state());
        ejectWith(b, group.find("quick"), 2);
        clock.advance(Duration.ofMillis(999));
        assertFalse(group.find("quick").isAdmitted());
        clock.advance(Duration.ofMillis(1));
        assertTrue(group.find("quick").isAdmitted(), "its own fail-timeout of 1 s");
    }

    static void ejectWith(final Balancer b, final Upstream u, final int failures)
    {
        for (int i = 0; i < failures; i++)
        {
            RoundRobinTest.fail(b, u);
        }
        assertEquals(UpstreamState.EJECTED, u.state());
    }

    static void succeed(final Balancer b, final Upstream u)
    {
        b.onStart(u);
        b.onEnd(u, 1_000_000, CallOutcome.SUCCESS);
    }
}
