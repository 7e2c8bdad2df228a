package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Add, remove, drain and update while requests are in flight; identity and statistics survive. */
class GroupChangeTest
{
    @Test
    void aDrainedServerTakesNoNewRequestsAndLeavesWhenItsLastOneEnds()
    {
        final UpstreamGroup group = HashPolicyTest.group(2, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream a = group.find("u0");
        b.onStart(a);
        b.onStart(a);
        assertTrue(group.drain(a));
        assertFalse(group.drain(a), "already draining");
        assertEquals(UpstreamState.DRAINING, a.state());
        for (int i = 0; i < 10; i++)
        {
            assertNotSame(a, b.pick(null));
        }
        assertEquals(List.of(group.find("u1"), a), group.upstreams(), "still listed while requests are in flight");
        b.onEnd(a, 1_000, CallOutcome.SUCCESS);
        assertEquals(UpstreamState.DRAINING, a.state());
        b.onEnd(a, 1_000, CallOutcome.SUCCESS);
        assertEquals(UpstreamState.REMOVED, a.state(), "removed once idle");
        assertEquals(List.of(group.find("u1")), group.upstreams());
        assertEquals(2, a.stats().successes());

        final Upstream idle = group.find("u1");
        assertTrue(group.drain(idle));
        assertTrue(idle.isRemoved(), "an idle server drains at once");
        assertNull(b.pick(null));
        assertEquals(PickFailure.EMPTY, b.lastFailure());
    }

    @Test
    void aRemovedServersInFlightRequestsStillEnd()
    {
        final UpstreamGroup group = HashPolicyTest.group(2, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("least-conn"));
        final Upstream a = group.find("u0");
        b.onStart(a);
        assertTrue(group.remove(a));
        assertFalse(group.remove(a));
        assertTrue(a.isRemoved());
        assertSame(group.find("u1"), b.pick(null));
        b.onEnd(a, 5, CallOutcome.FAILURE);
        assertEquals(0, a.inFlight());
        assertEquals(1, a.failures());
    }

    @Test
    void updateKeepsIdentityAndStatisticsAddsNewAndDrainsMissing()
    {
        final UpstreamGroup group = HashPolicyTest.group(3, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream u0 = group.find("u0");
        final Upstream u2 = group.find("u2");
        for (int i = 0; i < 30; i++)
        {
            final Upstream u = b.pick(null);
            b.onStart(u);
            b.onEnd(u, 1_000, CallOutcome.SUCCESS);
        }
        b.onStart(u2);
        final RefreshResult r = group.update(List.of(UpstreamSpec.ofEndpoint("u0", "x").withWeight(3),
            UpstreamSpec.ofEndpoint("u1", "x"), UpstreamSpec.ofEndpoint("u3", "x")));
        assertEquals(new RefreshResult(1, 1, 1, 1), r);
        assertSame(u0, group.find("u0"), "same object");
        assertEquals(10, u0.requests(), "its statistics survived the refresh");
        assertEquals(3, u0.spec().weight());
        assertEquals(UpstreamState.DRAINING, u2.state());
        final Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 500; i++)
        {
            counts.merge(b.pick(null).name(), 1, Integer::sum);
        }
        assertEquals(Map.of("u0", 300, "u1", 100, "u3", 100), counts, "the new weights, without u2");

        final RefreshResult back = group.update(List.of(UpstreamSpec.ofEndpoint("u0", "x").withWeight(3),
            UpstreamSpec.ofEndpoint("u1", "x"), UpstreamSpec.ofEndpoint("u2", "x"), UpstreamSpec.ofEndpoint("u3", "x")));
        assertEquals(new RefreshResult(0, 1, 3, 0), back);
        assertSame(u2, group.find("u2"), "listed again while draining: it comes back as itself");
        assertEquals(UpstreamState.UP, u2.state());
        b.onEnd(u2, 1, CallOutcome.SUCCESS);
        assertFalse(u2.isRemoved());

        assertThrows(IllegalArgumentException.class, () -> group.update(List.of(UpstreamSpec.ofEndpoint("x", "x"),
            UpstreamSpec.ofEndpoint("x", "y"))));
        assertThrows(IllegalArgumentException.class, () -> group.add(UpstreamSpec.ofEndpoint("u1", "x")));
    }

    @Test
    void reapDrainedRemovesWhatABalancerLeftBehind()
    {
        final UpstreamGroup group = HashPolicyTest.group(2, 2);
        final Balancer w0 = group.balancer(0, BalancePolicy.named("round-robin"));
        final Upstream a = group.find("u0");
        w0.onStart(a);
        group.drain(a);
        // An end reported through the cells directly does not reap (as a racing end would not).
        a.cells.add(0, WorkerCells.IN_FLIGHT, -1);
        assertEquals(UpstreamState.DRAINING, a.state());
        assertEquals(1, group.reapDrained());
        assertTrue(a.isRemoved());
    }

    @Test
    void misuseFailsFastWithTheRemedy()
    {
        final UpstreamGroup group = HashPolicyTest.group(1, 2);
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final IllegalStateException twice = assertThrows(IllegalStateException.class,
            () -> group.balancer(0, BalancePolicy.named("least-conn")));
        assertTrue(twice.getMessage().contains("close()"), twice.getMessage());
        b.close();
        final Balancer again = group.balancer(0, BalancePolicy.named("least-conn"));
        assertThrows(IllegalStateException.class, () -> b.pick(null));
        assertThrows(IllegalArgumentException.class, () -> group.balancer(2, BalancePolicy.named("least-conn")));
        final Upstream foreign = HashPolicyTest.group(1, 1).find("u0");
        assertThrows(IllegalArgumentException.class, () -> again.onStart(foreign));

        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
            () -> BalancePolicy.named("fair"));
        for (final String name : BalancePolicy.names())
        {
            assertTrue(unknown.getMessage().contains(name), unknown.getMessage());
        }
        assertEquals("least-time", BalancePolicy.named(" Least_Time ").name());
        assertEquals(11, BalancePolicy.names().size());
        assertThrows(IllegalArgumentException.class, () -> UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "x"),
            UpstreamSpec.ofEndpoint("a", "y")).build());
    }

    @Test
    void everyPolicyPicksFromEveryGroupShape()
    {
        for (final String name : BalancePolicy.names())
        {
            final UpstreamGroup group = UpstreamGroup.builder()
                .add(UpstreamSpec.ofEndpoint("p", "x").withZone("a"), UpstreamSpec.ofEndpoint("q", "x").withZone("b"),
                    UpstreamSpec.ofEndpoint("z", "x").withBackup(true))
                .build();
            final Balancer b = group.balancer(0, BalancePolicy.named(name));
            final Tried tried = new Tried();
            int picked = 0;
            while (b.pick("client-1", tried) != null)
            {
                picked++;
            }
            assertEquals(3, picked, name + " reaches every upstream, the backup last");
            assertEquals("z", tried.last().name(), name);
            assertEquals(PickFailure.TRIED, b.lastFailure(), name);
            group.remove(group.find("p"));
            group.remove(group.find("q"));
            assertEquals("z", b.pick("client-1", null).name(), name + ": only a backup left");
        }
    }
}
