package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nginx's smooth weighted round robin, backups, and next-upstream retries through {@link Tried}. */
class RoundRobinTest
{
    @Test
    void weightsFiveOneOneGiveTheSmoothSequence()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a").withWeight(5),
            UpstreamSpec.ofEndpoint("b", "b"), UpstreamSpec.ofEndpoint("c", "c")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 14; i++)
        {
            seq.append(b.pick(null).name());
        }
        assertEquals("aabacaaaabacaa", seq.toString());
    }

    @Test
    void sharesFollowWeightsOverManyPicks()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.parse("127.0.0.1:1,weight=3"),
            UpstreamSpec.parse("127.0.0.1:2,weight=2"), UpstreamSpec.parse("127.0.0.1:3")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("ROUND_ROBIN"));
        final Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 600; i++)
        {
            counts.merge(b.pick(null).name(), 1, Integer::sum);
        }
        assertEquals(300, counts.get("127.0.0.1:1"));
        assertEquals(200, counts.get("127.0.0.1:2"));
        assertEquals(100, counts.get("127.0.0.1:3"));
    }

    @Test
    void retriesGoToTheNextUpstreamThenBackupsThenNone()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a"),
            UpstreamSpec.ofEndpoint("b", "b"), UpstreamSpec.ofEndpoint("z", "z").withBackup(true)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        final Tried tried = new Tried(1);
        final Upstream first = b.pick(tried);
        final Upstream second = b.pick(tried);
        assertTrue(first != second && !first.name().equals("z") && !second.name().equals("z"));
        assertEquals("z", b.pick(tried).name(), "the backup, once every primary was tried");
        assertNull(b.pick(tried));
        assertEquals(PickFailure.TRIED, b.lastFailure());
        assertEquals(3, tried.size());
        assertSame(group.find("z"), tried.last());
        tried.clear();
        final Upstream again = b.pick(tried);
        assertTrue(again != null && !again.name().equals("z"));
        assertEquals(PickFailure.NONE, b.lastFailure());
    }

    @Test
    void backupsGetTrafficOnlyWhenNoPrimaryIsAvailable()
    {
        final ManualClock clock = new ManualClock();
        final UpstreamGroup group = UpstreamGroup.builder().clock(clock).passive(1, Duration.ofSeconds(10))
            .add(UpstreamSpec.ofEndpoint("a", "a"), UpstreamSpec.ofEndpoint("b", "b"),
                UpstreamSpec.ofEndpoint("z", "z").withBackup(true)).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("round-robin"));
        for (int i = 0; i < 100; i++)
        {
            assertTrue(!b.pick(null).name().equals("z"), "a backup while primaries are up");
        }
        fail(b, group.find("a"));
        for (int i = 0; i < 10; i++)
        {
            assertEquals("b", b.pick(null).name());
        }
        fail(b, group.find("b"));
        for (int i = 0; i < 10; i++)
        {
            assertEquals("z", b.pick(null).name(), "every primary is ejected");
        }
        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < 10; i++)
        {
            assertTrue(!b.pick(null).name().equals("z"), "primaries are back when their ejection ends");
        }
    }

    @Test
    void aKeyPolicyRefusesAKeylessPick()
    {
        final UpstreamGroup group = UpstreamGroup.builder().add(UpstreamSpec.ofEndpoint("a", "a")).build();
        final Balancer b = group.balancer(0, BalancePolicy.named("hash"));
        assertTrue(b.needsKey());
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.pick(null));
        assertTrue(e.getMessage().contains("pick(key, tried)"), e.getMessage());
    }

    @Test
    void anEmptyGroupReportsEmpty()
    {
        final UpstreamGroup group = UpstreamGroup.builder().build();
        final Balancer b = group.balancer(0, BalancePolicy.named("least-conn"));
        assertNull(b.pick(null));
        assertEquals(PickFailure.EMPTY, b.lastFailure());
    }

    static void fail(final Balancer b, final Upstream u)
    {
        b.onStart(u);
        b.onEnd(u, 1_000, CallOutcome.FAILURE);
    }
}
