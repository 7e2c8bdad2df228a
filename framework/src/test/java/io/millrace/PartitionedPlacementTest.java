package io.millrace;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionedPlacementTest
{
    static final int KEYS = 8;
    static final int SUBMITTERS = 4;
    static final int REQUESTS = 100_000;

    record Request(int key, int submitter, int seq)
    {
    }

    @Test
    void eachKeyRunsOnOneWorkerInSubmissionOrderPerSubmitter() throws Exception
    {
        final Map<Integer, Thread> threadOfKey = new ConcurrentHashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        // lastSeq[submitter][key]: written only by the key's owner thread, which the test also checks
        final int[][] lastSeq = new int[SUBMITTERS][KEYS];
        for (final int[] row : lastSeq)
        {
            java.util.Arrays.fill(row, -1);
        }
        final AtomicLong completed = new AtomicLong();

        final PipelineBuilder<Request> b = Pipeline.builder();
        final StageRef<Request> store = b.stage("store", Placement.partitioned(Request::key));
        b.handle(store, (r, ctx) ->
        {
            final Thread previous = threadOfKey.putIfAbsent(r.key(), Thread.currentThread());
            if (previous != null && previous != Thread.currentThread())
            {
                violations.add("key " + r.key() + " ran on " + previous.getName() + " and " + Thread.currentThread().getName());
            }
            final int last;
            synchronized (lastSeq[r.submitter()])
            {
                last = lastSeq[r.submitter()][r.key()];
                lastSeq[r.submitter()][r.key()] = r.seq();
            }
            if (r.seq() <= last)
            {
                violations.add("submitter " + r.submitter() + " key " + r.key() + ": seq " + r.seq() + " after " + last);
            }
            return Outcome.done();
        });
        final Pipeline<Request> pipeline = b.name("part").workers(2).partitions(8).ringSize(256)
            .onComplete((r, e) -> completed.incrementAndGet()).build().start();

        final List<Thread> submitters = new ArrayList<>();
        for (int s = 0; s < SUBMITTERS; s++)
        {
            final int submitter = s;
            submitters.add(Thread.ofPlatform().name("submitter-" + s).start(() ->
            {
                final int[] seq = new int[KEYS];
                for (int i = 0; i < REQUESTS / SUBMITTERS; i++)
                {
                    final int key = (i * 7 + submitter) % KEYS;
                    Submit.untilAccepted(pipeline, new Request(key, submitter, seq[key]++));
                }
            }));
        }
        for (final Thread t : submitters)
        {
            t.join();
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());

        assertEquals(List.of(), violations);
        assertEquals(REQUESTS, completed.get());
        assertEquals(KEYS, threadOfKey.size());
        final Set<Thread> owners = Set.copyOf(threadOfKey.values());
        assertEquals(2, owners.size(), "8 keys over 8 partitions spread over both workers");
        final MetricsSnapshot m = pipeline.metrics();
        assertEquals(0, m.internalPublishes(), "a partitioned entry stage is routed at submit: no second hop");
    }

    @Test
    void aHopFromAnInlineStageReachesThePartitionOwnerWithOnePublish() throws Exception
    {
        final Map<Integer, Thread> threadOfKey = new ConcurrentHashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong crossed = new AtomicLong();

        final PipelineBuilder<Request> b = Pipeline.builder();
        final StageRef<Request> parse = b.stage("parse");
        final StageRef<Request> store = b.stage("store", Placement.partitioned(Request::key));
        final StageRef<Request> reply = b.stage("reply");
        final Map<Request, Thread> parsedOn = new ConcurrentHashMap<>();
        b.handle(parse, (r, ctx) ->
        {
            parsedOn.put(r, Thread.currentThread());
            return Outcome.next(store);
        }).handle(store, (r, ctx) ->
        {
            final Thread previous = threadOfKey.putIfAbsent(r.key(), Thread.currentThread());
            if (previous != null && previous != Thread.currentThread())
            {
                violations.add("key " + r.key() + " moved between workers");
            }
            if (ctx.partition() < 0 || ctx.partition() >= 16)
            {
                violations.add("partition out of range: " + ctx.partition());
            }
            if (parsedOn.remove(r) != Thread.currentThread())
            {
                crossed.incrementAndGet();
            }
            return Outcome.next(reply);
        }).handle(reply, (r, ctx) -> Outcome.done());
        final Pipeline<Request> pipeline = b.name("hop").workers(2).partitions(16).ringSize(256)
            .onComplete((r, e) -> completed.incrementAndGet()).build().start();
        for (int i = 0; i < 20_000; i++)
        {
            Submit.untilAccepted(pipeline, new Request(i % KEYS, 0, i));
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(30)).clean());
        assertEquals(List.of(), violations);
        assertEquals(20_000, completed.get());
        final MetricsSnapshot m = pipeline.metrics();
        assertEquals(crossed.get(), m.internalPublishes(), "exactly one publish per request that changed worker");
        assertTrue(crossed.get() > 0, "round-robin entry makes some requests cross");
    }
}
