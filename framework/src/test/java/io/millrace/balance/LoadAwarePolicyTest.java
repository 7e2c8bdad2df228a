package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** least-conn, least-time, random-two and Ribbon's weighted-response-time, on load they can see. */
class LoadAwarePolicyTest
{
    private static final long MS = 1_000_000L;

    @Test
    void leastConnPrefersTheIdleServer()
    {
        final UpstreamGroup group = HashPolicyTest.group(3, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("least-conn"));
        final Upstream a = group.find("u0");
        final Upstream c = group.find("u2");
        b.onStart(a);
        b.onStart(group.find("u1"));
        for (int i = 0; i < 10; i++)
        {
            assertSame(c, b.pick(null), "the only idle server");
        }
        b.onStart(c);
        b.onStart(c);
        assertSame(a, b.pick(null), "u0 and u1 have one each, u2 two: the first of the least loaded by round robin");
    }

    @Test
    void leastConnComparesPerWeightAndSharesTiesSmoothly()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a").withWeight(2),
            UpstreamSpec.ofEndpoint("b", "b")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("least-conn"));
        final Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 300; i++)
        {
            final Upstream u = b.pick(null);
            b.onStart(u);
            counts.merge(u.name(), 1, Integer::sum);
        }
        assertEquals(200, counts.get("a"), "in flight stays in proportion to weight: " + counts);
        assertEquals(100, counts.get("b"));
    }

    @Test
    void leastTimeShiftsAwayFromASlowServerAndTriesItAgainLater()
    {
        final ManualClock clock = new ManualClock();
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).latencyDecay(Duration.ofSeconds(10))
            .add(HashPolicyTest.specs(3, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("least-time"));
        final Upstream slow = group.find("u0");
        final Map<Upstream, Integer> counts = run(b, slow, 3_000, 0);
        assertTrue(counts.getOrDefault(slow, 0) <= 2, "the slow server is measured once and then avoided: " + counts);
        assertTrue(counts.get(group.find("u1")) > 1_300 && counts.get(group.find("u2")) > 1_300, counts.toString());

        // With requests queued everywhere, the slow one takes work once the others' queues cost more.
        final Map<Upstream, Integer> queued = run(b, slow, 3_000, 120);
        final int share = queued.getOrDefault(slow, 0);
        assertTrue(share > 0 && share < 300, "some, but far less than a third: " + queued);

        // Unsampled for a minute, its average has halved six times: it is tried again.
        clock.advance(Duration.ofSeconds(60));
        final Map<Upstream, Integer> later = run(b, slow, 30, 0);
        assertTrue(later.getOrDefault(slow, 0) >= 1, "decayed: " + later);
    }

    @Test
    void leastTimeOnOneWorkerSeesAnotherWorkersLatenciesInTheMergedView()
    {
        final ManualClock clock = new ManualClock();
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).workers(2).add(HashPolicyTest.specs(2, 1)).build();
        final Balancer w0 = group.balancer(0, BalancePolicy.named("least-time"));
        final Balancer w1 = group.balancer(1, BalancePolicy.named("least-time"));
        final Upstream slow = group.find("u0");
        final Upstream fast = group.find("u1");
        w0.onStart(slow);
        w0.onEnd(slow, 80 * MS, CallOutcome.SUCCESS);
        w0.onStart(fast);
        w0.onEnd(fast, MS, CallOutcome.SUCCESS);
        for (int i = 0; i < 20; i++)
        {
            assertSame(fast, w1.pick(null), "worker 1 never sent a request, yet knows which is slow");
        }
        assertEquals(80 * MS, slow.latencyNanos());
    }

    @Test
    void theWorkerViewComparesOnlyThePickingWorkersOwnCounts()
    {
        for (final StatsView view : StatsView.values())
        {
            final UpstreamGroup group = UpstreamGroup.builder().workers(2).statsView(view)
                .add(HashPolicyTest.specs(2, 1)).build();
            final Balancer w0 = group.balancer(0, BalancePolicy.named("least-conn"));
            final Balancer w1 = group.balancer(1, BalancePolicy.named("least-conn"));
            final Upstream busy = group.find("u0");
            for (int i = 0; i < 5; i++)
            {
                w0.onStart(busy);
            }
            assertEquals(5, busy.inFlight(), "readers always see the merged count");
            int toBusy = 0;
            for (int i = 0; i < 10; i++)
            {
                if (w1.pick(null) == busy)
                {
                    toBusy++;
                }
            }
            assertEquals(view == StatsView.MERGED ? 0 : 5, toBusy, view + ": worker 1 sees " +
                (view == StatsView.MERGED ? "worker 0's five" : "only its own zero"));
        }
    }

    @Test
    void randomTwoNeverPicksTheBusierOfItsDrawsAndSharesByWeight()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a").withWeight(2),
            UpstreamSpec.ofEndpoint("b", "b"), UpstreamSpec.ofEndpoint("c", "c")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("random-two").seed(42));
        final Map<String, Integer> idle = new HashMap<>();
        final int n = 20_000;
        for (int i = 0; i < n; i++)
        {
            idle.merge(b.pick(null).name(), 1, Integer::sum);
        }
        final double a = idle.get("a") / (double)n;
        assertTrue(a > 0.45 && a < 0.55, "a weighs half and wins ties as the first draw half the time: " + idle);

        final Upstream busy = group.find("a");
        for (int i = 0; i < 10; i++)
        {
            b.onStart(busy);
        }
        for (int i = 0; i < 2_000; i++)
        {
            final Upstream u = b.pick(null);
            assertTrue(u != busy, "the busy server loses every comparison");
        }
    }

    @Test
    void weightedResponseTimeFavoursTheFastInRibbonsProportions()
    {
        final ManualClock clock = new ManualClock();
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).add(HashPolicyTest.specs(3, 1)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("weighted-response-time").seed(7));
        final long[] latency = {10 * MS, 30 * MS, 60 * MS};
        final Upstream[] u = {group.find("u0"), group.find("u1"), group.find("u2")};
        for (int i = 0; i < 3; i++)
        {
            b.onStart(u[i]);
            b.onEnd(u[i], latency[i], CallOutcome.SUCCESS);
        }
        final int n = 20_000;
        final int[] counts = new int[3];
        for (int k = 0; k < n; k++)
        {
            final Upstream p = b.pick(null);
            for (int i = 0; i < 3; i++)
            {
                if (p == u[i])
                {
                    counts[i]++;
                    b.onStart(p);
                    b.onEnd(p, latency[i], CallOutcome.SUCCESS);
                }
            }
        }
        // Weights: total 100 ms minus own: 90, 70, 40 of 200.
        final double[] expected = {0.45, 0.35, 0.20};
        for (int i = 0; i < 3; i++)
        {
            final double share = counts[i] / (double)n;
            assertTrue(Math.abs(share - expected[i]) < 0.02, "u" + i + ": " + share + " vs " + expected[i]);
        }
    }

    /**
     * Picks {@code n} times; u0 answers in 50 ms, the others in 1 ms. With {@code queue} > 0 that
     * many requests stay in flight, the oldest ending at each pick.
     */
    private static Map<Upstream, Integer> run(final Balancer b, final Upstream slow, final int n, final int queue)
    {
        final Map<Upstream, Integer> counts = new HashMap<>();
        final ArrayDeque<Upstream> inFlight = new ArrayDeque<>();
        for (int i = 0; i < n; i++)
        {
            final Upstream u = b.pick(null);
            counts.merge(u, 1, Integer::sum);
            b.onStart(u);
            inFlight.add(u);
            while (inFlight.size() > queue)
            {
                final Upstream done = inFlight.poll();
                b.onEnd(done, done == slow ? 50 * MS : MS, CallOutcome.SUCCESS);
            }
        }
        while (!inFlight.isEmpty())
        {
            final Upstream done = inFlight.poll();
            b.onEnd(done, done == slow ? 50 * MS : MS, CallOutcome.SUCCESS);
        }
        return counts;
    }
}
