package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ip-hash, hash and consistent-hash: stickiness, weights, failover, and the ring's movement bound. */
class HashPolicyTest
{
    private static final int KEYS = 20_000;

    @Test
    void ipHashSticksAClientsSlash24ToOneUpstream()
    {
        final UpstreamGroup group = group(4, 1);
        final Balancer b = group.balancer(0, BalancePolicy.named("ip-hash"));
        final Map<String, Integer> counts = new HashMap<>();
        for (int c = 0; c < 256; c++)
        {
            final String net = "10." + c + ".7.";
            final Upstream u = b.pick(net + "1", null);
            for (int host = 2; host < 20; host++)
            {
                assertSame(u, b.pick(net + host, null), "same /24, same upstream");
            }
            final long asInt = 10L << 24 | (long)c << 16 | 7 << 8 | 99;
            assertSame(u, b.pick(asInt, null), "the address as a number picks as its text does");
            counts.merge(u.name(), 1, Integer::sum);
        }
        assertEquals(4, counts.size(), "every upstream serves some networks: " + counts);
        final Upstream v6 = b.pick("2001:db8::1", null);
        assertSame(v6, b.pick("2001:db8::1", null));
    }

    @Test
    void hashFollowsWeightsAndSticks()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a").withWeight(3),
            UpstreamSpec.ofEndpoint("b", "b")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("hash"));
        int a = 0;
        for (int k = 0; k < KEYS; k++)
        {
            final Upstream u = b.pick("/user/" + k, null);
            assertSame(u, b.pick("/user/" + k, null));
            if (u.name().equals("a"))
            {
                a++;
            }
        }
        assertTrue(Math.abs(a - KEYS * 3 / 4) < KEYS / 40, "weight 3 of 4 takes about 3/4 of the keys: " + a);
    }

    @Test
    void hashKeysOfADownUpstreamGoElsewhereAndReturn()
    {
        for (final String policy : new String[] {"hash", "consistent-hash", "ip-hash"})
        {
            // A group per policy: a second ejection in a row of the same upstream would last twice as long.
            final ManualClock clock = new ManualClock();
            final UpstreamGroup group = UpstreamGroup.builder().clock(clock).add(specs(3, 1)).build();
            final Balancer b = group.balancer(0, BalancePolicy.named(policy));
            final List<Upstream> before = new ArrayList<>();
            for (int k = 0; k < 1000; k++)
            {
                before.add(b.pick("10.1." + k % 250 + "." + k, null));
            }
            final Upstream down = before.get(0);
            RoundRobinTest.fail(b, down);
            for (int k = 0; k < 1000; k++)
            {
                final Upstream now = b.pick("10.1." + k % 250 + "." + k, null);
                assertNotEquals(down, now, policy);
                if (before.get(k) != down && !policy.equals("hash") && !policy.equals("ip-hash"))
                {
                    assertSame(before.get(k), now, policy + ": keys of the up upstreams stay");
                }
            }
            clock.advanceMillis(10_001);
            for (int k = 0; k < 1000; k++)
            {
                assertSame(before.get(k), b.pick("10.1." + k % 250 + "." + k, null), policy + ": and come back");
            }
        }
    }

    @Test
    void addingTheNthServerMovesAtMostOneAndAHalfOverNOfTheKeysAllToIt()
    {
        for (int n = 2; n <= 12; n++)
        {
            final UpstreamGroup group = UpstreamGroup.builder().add(specs(n - 1, 1)).build();
            final Balancer b = group.balancer(0, BalancePolicy.named("consistent-hash"));
            final Upstream[] before = new Upstream[KEYS];
            for (int k = 0; k < KEYS; k++)
            {
                before[k] = b.pick("key-" + k, null);
            }
            final Upstream added = group.add(UpstreamSpec.ofEndpoint("u" + (n - 1), "x"));
            int moved = 0;
            for (int k = 0; k < KEYS; k++)
            {
                final Upstream now = b.pick("key-" + k, null);
                if (now != before[k])
                {
                    assertSame(added, now, "a key moves only to the new server");
                    moved++;
                }
            }
            final double share = (double)moved / KEYS;
            assertTrue(share <= 1.5 / n, "n=" + n + ": moved " + share + " > 1.5/n");
            assertTrue(share >= 0.5 / n, "n=" + n + ": the new server took only " + share);
        }
    }

    @Test
    void weightedRingSharesFollowWeights()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("big", "b").withWeight(4),
            UpstreamSpec.ofEndpoint("small", "s")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("consistent-hash"));
        int big = 0;
        for (int k = 0; k < KEYS; k++)
        {
            if (b.pick((long)k, null).name().equals("big"))
            {
                big++;
            }
        }
        final double share = (double)big / KEYS;
        assertTrue(share > 0.74 && share < 0.86, "weight 4 of 5: " + share);
    }

    static UpstreamGroup group(final int n, final int workers)
    {
        return UpstreamGroup.builder().workers(workers).add(specs(n, 1)).build();
    }

    static List<UpstreamSpec> specs(final int n, final int weight)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            specs.add(UpstreamSpec.ofEndpoint("u" + i, "x").withWeight(weight));
        }
        return specs;
    }
}
