package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ribbon's best-available, availability-filtering and zone-avoidance rules. */
class RibbonPolicyTest
{
    @Test
    void bestAvailableSkipsTrippedAndTakesTheLeastActive()
    {
        final UpstreamGroup group = HashPolicyTest.group(3, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("best-available"));
        final Upstream a = group.find("u0");
        final Upstream u1 = group.find("u1");
        final Upstream u2 = group.find("u2");
        RoundRobinTest.fail(b, a);
        b.onStart(u1);
        b.onStart(u1);
        b.onStart(u2);
        for (int i = 0; i < 10; i++)
        {
            assertSame(u2, b.pick(null), "u0 is tripped, u2 has fewer in flight than u1");
        }
        b.onEnd(u1, 1, CallOutcome.SUCCESS);
        final Set<Upstream> seen = new HashSet<>();
        for (int i = 0; i < 4; i++)
        {
            seen.add(b.pick(null));
        }
        assertEquals(Set.of(u1, u2), seen, "equals take turns");
    }

    @Test
    void availabilityFilteringSkipsTrippedAndThoseAtTheActiveLimit()
    {
        final UpstreamGroup group = HashPolicyTest.group(3, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("availability-filtering").activeLimit(2));
        final Upstream u0 = group.find("u0");
        final Upstream u1 = group.find("u1");
        final Upstream u2 = group.find("u2");
        final Map<Upstream, Integer> spread = new HashMap<>();
        for (int i = 0; i < 30; i++)
        {
            spread.merge(b.pick(null), 1, Integer::sum);
        }
        assertEquals(Map.of(u0, 10, u1, 10, u2, 10), spread, "round robin while all are available");
        RoundRobinTest.fail(b, u0);
        b.onStart(u1);
        b.onStart(u1);
        for (int i = 0; i < 5; i++)
        {
            assertSame(u2, b.pick(null));
        }
        b.onStart(u2);
        b.onStart(u2);
        assertNull(b.pick(null));
        assertEquals(PickFailure.BUSY, b.lastFailure(), "over the active limit: answer 503 at once");
    }

    @Test
    void zoneAvoidanceAvoidsTheZoneWhoseServersPileUpRequests()
    {
        final UpstreamGroup group = zones();
        final Balancer b = group.balancer(0, BalancePolicy.named("zone-avoidance").seed(3));
        // Zone a's servers hang: their requests never end. Zone b answers at once.
        int toA = 0;
        for (int i = 0; i < 1_000; i++)
        {
            final Upstream u = b.pick(null);
            b.onStart(u);
            if (u.spec().zone().equals("a"))
            {
                toA++;
            }
            else
            {
                b.onEnd(u, 1_000, CallOutcome.SUCCESS);
            }
        }
        assertTrue(toA <= 3, "once zone a's load per server passes 0.2 it is avoided: " + toA + " went there");
    }

    @Test
    void zoneAvoidanceAvoidsAZoneWithEnoughTrippedServers()
    {
        final UpstreamGroup group = zones();
        final Balancer b = group.balancer(0, BalancePolicy.named("zone-avoidance").zoneBlackoutShare(0.5));
        RoundRobinTest.fail(b, group.find("a0"));
        RoundRobinTest.fail(b, group.find("a1"));
        for (int i = 0; i < 100; i++)
        {
            assertEquals("b", b.pick(null).spec().zone(), "two of zone a's three are ejected: a is blacked out");
        }
        // Ribbon's default share (every server tripped): a's last server still gets its turn.
        final Balancer ribbon = group.balancer(0 + 1, BalancePolicy.named("zone-avoidance"));
        final Set<String> zones = new HashSet<>();
        for (int i = 0; i < 100; i++)
        {
            final Upstream u = ribbon.pick(null);
            zones.add(u.name());
        }
        assertEquals(Set.of("a2", "b0", "b1", "b2"), zones);
    }

    @Test
    void zoneAvoidanceKeepsTheLastZoneAndNeverFallsBackToAnEjectedServer()
    {
        final ManualClock clock = new ManualClock();
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(1, Duration.ofSeconds(10))
            .add(UpstreamSpec.ofEndpoint("a0", "x").withZone("a"), UpstreamSpec.ofEndpoint("b0", "x").withZone("b"))
            .build();
        final Balancer b = group.balancer(0, BalancePolicy.named("zone-avoidance"));
        RoundRobinTest.fail(b, group.find("a0"));
        // a is blacked out; b is then the worst zone, but the last one left, so it stays.
        for (int i = 0; i < 10; i++)
        {
            assertEquals("b0", b.pick(null).name());
        }
        RoundRobinTest.fail(b, group.find("b0"));
        assertNull(b.pick(null));
        assertEquals(PickFailure.DOWN, b.lastFailure(), "an ejected server is never the fallback");
    }

    private static UpstreamGroup zones()
    {
        final UpstreamGroupBuilder builder = UpstreamGroup.builder().workers(2);
        for (final String zone : new String[] {"a", "b"})
        {
            for (int i = 0; i < 3; i++)
            {
                builder.add(UpstreamSpec.ofEndpoint(zone + i, "x").withZone(zone));
            }
        }
        return builder.build();
    }
}
