package io.millrace.balance;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pick, its start and its successful end allocate nothing, for every policy: counted with the
 * JVM's exact per-thread allocation counter over many picks after a warm-up (the group does not
 * change meanwhile; a change rebuilds the policy's arrays once). No timing is asserted.
 */
class PickAllocationTest
{
    private static final int WARM_UP = 30_000;
    private static final int MEASURED = 50_000;

    @Test
    void noPolicyAllocatesPerPick()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long self = Thread.currentThread().threadId();
        final String[] keys = new String[64];
        for (int i = 0; i < keys.length; i++)
        {
            keys[i] = "10.0." + i + ".1";
        }
        for (final String name : BalancePolicy.names())
        {
            final UpstreamGroupBuilder builder = UpstreamGroup.builder().workers(2);
            for (int i = 0; i < 8; i++)
            {
                builder.add(UpstreamSpec.ofEndpoint("u" + i, "x").withWeight(1 + i % 3).withZone(i % 2 == 0 ? "a" : "b")
                    .withLimits(0, 0, 1_000).withSlowStart(java.time.Duration.ofSeconds(1)));
            }
            builder.add(UpstreamSpec.ofEndpoint("backup", "x").withBackup(true));
            final UpstreamGroup group = builder.build();
            final Balancer b = group.balancer(1, BalancePolicy.named(name));
            final Tried tried = new Tried();
            run(b, tried, keys, WARM_UP);
            final long before = threads.getThreadAllocatedBytes(self);
            run(b, tried, keys, MEASURED);
            final long allocated = threads.getThreadAllocatedBytes(self) - before;
            System.out.printf("%-24s %d bytes over %d picks%n", name, allocated, MEASURED);
            assertTrue(allocated < 1_024, name + " allocated " + allocated + " bytes over " + MEASURED + " picks");
        }
    }

    private static void run(final Balancer b, final Tried tried, final String[] keys, final int n)
    {
        long latency = 1_000;
        for (int i = 0; i < n; i++)
        {
            tried.clear();
            final Upstream u = b.pick(keys[i & 63], tried);
            b.onStart(u);
            if ((i & 7) == 0)
            {
                final Upstream retry = b.pick(keys[i & 63], tried);
                b.onStart(retry);
                b.onEnd(retry, latency, CallOutcome.SUCCESS);
            }
            latency = latency * 7 % 1_000_003 + 1_000;
            b.onEnd(u, latency, CallOutcome.SUCCESS);
        }
    }
}
