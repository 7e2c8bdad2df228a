package io.millrace.balance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workers, each with its own balancer and policy, pick, start and end attempts (successes,
 * failures that eject, neutral ends, retries through {@link Tried}) while another thread adds,
 * removes, drains and updates the group. At the end every count must add up: nothing lost, nothing
 * counted twice, no request left in flight, no idle drained upstream left in the group. A lost
 * update of a per-worker counter, a torn snapshot or a missed reap fails it.
 */
class BalanceConcurrencyTest
{
    private static final int WORKERS = 3;
    private static final int ITERATIONS = 150_000;
    private static final String[] POLICIES = {"least-conn", "round-robin", "consistent-hash"};

    @Test
    @Timeout(120)
    void countsAddUpWhileTheGroupChangesUnderTheWorkers() throws Exception
    {
        for (int round = 0; round < 3; round++)
        {
            runOnce(round);
        }
    }

    /**
     * least-conn (and least-time) break a tie among equally loaded upstreams in a second pass over
     * the members; with slow start, a weight read in that pass could differ from the first pass's
     * when another worker's failure re-ejected an upstream in between, and the tie-break then found
     * no member and indexed -1. Another thread ejects the upstreams every millisecond while this one
     * picks among idle (tied) upstreams.
     */
    @Test
    @Timeout(60)
    void aTieBreakSeesTheWeightsOfItsFirstPassWhileAnotherWorkerEjects() throws Exception
    {
        final UpstreamGroup group = UpstreamGroup.builder().name("tie").workers(2)
            .passive(1, Duration.ofMillis(1)).maxEjection(Duration.ofMillis(1)).slowStart(Duration.ofMillis(50))
            .add(UpstreamSpec.ofEndpoint("a", "x"), UpstreamSpec.ofEndpoint("b", "x"), UpstreamSpec.ofEndpoint("c", "x"))
            .build();
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread ejector = new Thread(() -> guard(failure, () ->
        {
            final Balancer b = group.balancer(1, BalancePolicy.named("round-robin"));
            while (running.get())
            {
                final Upstream u = b.pick("k", null);
                if (u != null)
                {
                    b.onStart(u);
                    b.onEnd(u, 1_000, CallOutcome.FAILURE);
                }
            }
        }), "ejector");
        ejector.start();
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long picks = 0;
        try
        {
            for (final String policy : new String[] {"least-conn", "least-time"})
            {
                final Balancer b = group.balancer(0, BalancePolicy.named(policy));
                for (int i = 0; i < 2_000_000 && failure.get() == null && System.nanoTime() < end; i++)
                {
                    final Upstream u = b.pick("k", null);
                    if (u != null)
                    {
                        picks++;
                        b.onStart(u);
                        b.onEnd(u, 1_000, CallOutcome.SUCCESS);
                    }
                }
                b.close();
            }
        }
        catch (final Throwable t)
        {
            failure.compareAndSet(null, t);
        }
        running.set(false);
        ejector.join(10_000);
        assertNull(failure.get(), () ->
        {
            final java.io.StringWriter trace = new java.io.StringWriter();
            failure.get().printStackTrace(new java.io.PrintWriter(trace));
            return "a pick failed: " + trace;
        });
        assertTrue(picks > 0, "some picks found an admitted upstream");
    }

    private static void runOnce(final int round) throws Exception
    {
        final UpstreamGroupBuilder builder = UpstreamGroup.builder().name("race-" + round).workers(WORKERS)
            .passive(2, Duration.ofMillis(5)).maxEjection(Duration.ofMillis(40)).maxEjectionPercent(60)
            .slowStart(Duration.ofMillis(20));
        for (int i = 0; i < 6; i++)
        {
            UpstreamSpec spec = UpstreamSpec.ofEndpoint("s" + i, "x").withZone(i % 2 == 0 ? "a" : "b").withWeight(1 + i % 3);
            if (i == 5)
            {
                spec = spec.withBackup(true);
            }
            if (i == 4)
            {
                spec = spec.withLimits(0, 0, 3);
            }
            builder.add(spec);
        }
        final UpstreamGroup group = builder.build();
        final Set<Upstream> seen = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        seen.addAll(group.upstreams());
        final long[][] tallies = new long[WORKERS][4];
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++)
        {
            final int worker = w;
            threads.add(new Thread(() -> guard(failure, () ->
            {
                start.await();
                work(group, worker, tallies[worker], seen);
            }), "picker-" + w));
        }
        final Thread mutator = new Thread(() -> guard(failure, () ->
        {
            start.await();
            mutate(group, running, seen);
        }), "mutator");
        threads.forEach(Thread::start);
        mutator.start();
        start.countDown();
        for (final Thread t : threads)
        {
            t.join(TimeUnit.SECONDS.toMillis(100));
            assertFalse(t.isAlive(), t.getName() + " is stuck");
        }
        running.set(false);
        mutator.join(TimeUnit.SECONDS.toMillis(10));
        assertNull(failure.get(), () ->
        {
            final java.io.StringWriter trace = new java.io.StringWriter();
            failure.get().printStackTrace(new java.io.PrintWriter(trace));
            return "a thread failed: " + trace;
        });

        group.reapDrained();
        long starts = 0;
        long successes = 0;
        long failures = 0;
        long neutral = 0;
        for (final long[] t : tallies)
        {
            starts += t[0];
            successes += t[1];
            failures += t[2];
            neutral += t[3];
        }
        assertEquals(starts, successes + failures + neutral, "every started attempt ended once");
        long requests = 0;
        long counted = 0;
        long failed = 0;
        long ejections = 0;
        long refused = 0;
        for (final Upstream u : seen)
        {
            final UpstreamStats s = u.stats();
            ejections += s.ejections();
            refused += s.refusedEjections();
            assertEquals(0, u.cells.sum(WorkerCells.IN_FLIGHT), u + " has requests left in flight");
            assertEquals(s.requests(), s.successes() + s.failures() + u.cells.sum(WorkerCells.NEUTRAL), u.toString());
            requests += s.requests();
            counted += s.successes();
            failed += s.failures();
        }
        assertEquals(starts, requests, "the upstreams counted every start");
        assertEquals(successes, counted);
        assertEquals(failures, failed);
        for (final Upstream u : group.upstreams())
        {
            assertFalse(u.isRemoved(), u + " is listed but removed");
            assertFalse(u.isDraining(), u + " drains with nothing in flight but was not removed");
        }
        for (final Upstream u : seen)
        {
            assertEquals(u.isRemoved(), !group.upstreams().contains(u), u.toString());
        }
        assertTrue(starts > ITERATIONS, "the workers did work: " + starts);
        System.out.printf("round %d: %d attempts (%d failed), %d upstreams seen, %d removed, %d ejections, %d refused%n",
            round, starts, failures, seen.size(), seen.stream().filter(Upstream::isRemoved).count(), ejections, refused);
    }

    private static void work(final UpstreamGroup group, final int worker, final long[] tally, final Set<Upstream> seen)
    {
        final Balancer b = group.balancer(worker, BalancePolicy.named(POLICIES[worker % POLICIES.length]).seed(worker));
        final SplittableRandom random = new SplittableRandom(worker * 31L + 7);
        final ArrayDeque<Upstream> inFlight = new ArrayDeque<>();
        final Tried tried = new Tried();
        for (int i = 0; i < ITERATIONS; i++)
        {
            if (random.nextInt(4) != 0)
            {
                tried.clear();
            }
            final Upstream u = b.pick("key-" + (i & 1023), tried);
            if (u != null)
            {
                b.onStart(u);
                tally[0]++;
                inFlight.add(u);
            }
            while (inFlight.size() > random.nextInt(1, 12))
            {
                end(b, inFlight.poll(), random, tally);
            }
        }
        while (!inFlight.isEmpty())
        {
            end(b, inFlight.poll(), random, tally);
        }
        b.close();
    }

    private static void end(final Balancer b, final Upstream u, final SplittableRandom random, final long[] tally)
    {
        final int roll = random.nextInt(100);
        final CallOutcome outcome = roll < 3 ? CallOutcome.FAILURE : roll < 6 ? CallOutcome.NEUTRAL : CallOutcome.SUCCESS;
        b.onEnd(u, random.nextLong(1_000, 2_000_000), outcome);
        tally[outcome == CallOutcome.SUCCESS ? 1 : outcome == CallOutcome.FAILURE ? 2 : 3]++;
    }

    private static void mutate(final UpstreamGroup group, final AtomicBoolean running, final Set<Upstream> seen)
    {
        final SplittableRandom random = new SplittableRandom(99);
        int next = 100;
        while (running.get())
        {
            final List<Upstream> now = group.upstreams();
            final int op = random.nextInt(5);
            if (op == 0 || now.size() < 3)
            {
                seen.add(group.add(UpstreamSpec.ofEndpoint("n" + next++, "x").withZone(random.nextBoolean() ? "a" : "b")));
            }
            else if (op == 1)
            {
                group.drain(now.get(random.nextInt(now.size())));
            }
            else if (op == 2)
            {
                group.remove(now.get(random.nextInt(now.size())));
            }
            else if (op == 3)
            {
                final List<UpstreamSpec> specs = new ArrayList<>();
                for (final Upstream u : now)
                {
                    if (!u.isDraining() && random.nextInt(4) != 0)
                    {
                        specs.add(u.spec().withWeight(1 + random.nextInt(4)));
                    }
                }
                specs.add(UpstreamSpec.ofEndpoint("n" + next++, "x"));
                group.update(specs);
                seen.addAll(group.upstreams());
            }
            else
            {
                group.reapDrained();
            }
            LockSupport.parkNanos(200_000);
        }
    }

    private interface Body
    {
        void run() throws Exception;
    }

    private static void guard(final AtomicReference<Throwable> failure, final Body body)
    {
        try
        {
            body.run();
        }
        catch (final Throwable t)
        {
            failure.compareAndSet(null, t);
        }
    }
}
