package io.millrace.jfr;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.lock.LockGrid;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM in which no flight recorder starts loads no Millrace event class and not JFR's metadata
 * repository, however much the runtime does: every emission point asks {@link JfrSwitch} first. A
 * fresh JVM (this test's own has recorders running) runs {@link #main}, which exercises every
 * emission point, under {@code -Xlog:class+load}; the test reads the log.
 */
class JfrStaysUnloadedTest
{
    @Test
    @Timeout(60)
    void withoutARecorderNoEventClassIsLoaded() throws Exception
    {
        final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        final Process child = new ProcessBuilder(List.of(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-Xlog:class+load=info:stdout", "-cp", System.getProperty("java.class.path"), JfrStaysUnloadedTest.class.getName()))
            .redirectErrorStream(true).start();
        final String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), () -> "the child ran: " + out.lines().filter(l -> !l.contains("[class,load]")).toList());
        assertTrue(out.contains("every emission point passed"), "the child reached its end");
        final List<String> loaded = out.lines().filter(l -> l.contains("[class,load]"))
            .map(l -> l.replaceFirst(".*\\[class,load\\] ", "").replaceFirst(" .*", "")).toList();
        assertTrue(loaded.contains(JfrSwitch.class.getName()), "the switch was asked");
        assertFalse(loaded.contains("jdk.jfr.internal.MetadataRepository"), "JFR's metadata repository never came up");
        assertEquals(List.of(), loaded.stream().filter(c -> c.startsWith("io.millrace.jfr.") && c.endsWith("Event")).toList(),
            "no event class was loaded");
        assertFalse(loaded.contains("jdk.jfr.Event"), "nor JFR's Event class");
    }

    /**
     * The child: a pipeline that dispatches, hops, blocks, parks, waits on a lock-grid cell and
     * rejects, and an arena that runs out and leaks.
     */
    public static void main(final String[] args) throws Exception
    {
        final PipelineBuilder<int[]> b = Pipeline.builder();
        final StageRef<int[]> route = b.stage("route", Placement.partitioned(r -> r[0]));
        final StageRef<int[]> take = b.stage("take");
        final StageRef<int[]> work = b.stage("work", Placement.blocking(1));
        final StageRef<int[]> give = b.stage("give");
        final LockGrid grid = LockGrid.builder().name("g").rows(take).columns(2).build();
        b.handle(route, (r, ctx) -> Outcome.next(take))
            .handle(take, (r, ctx) -> grid.acquire(ctx, 0) ? Outcome.next(work) : Outcome.blocked())
            .handle(work, (r, ctx) ->
            {
                Thread.sleep(1);
                return Outcome.next(give);
            })
            .handle(give, (r, ctx) ->
            {
                grid.release(ctx, take, 0);
                return Outcome.done();
            });
        final int requests = 40;
        final CountDownLatch done = new CountDownLatch(requests);
        final Pipeline<int[]> pipeline = b.name("no-jfr").workers(2).partitions(2).maxInFlight(4).idle(Idle.backoff())
            .onComplete((r, e) -> done.countDown()).build().start();
        int rejected = 0;
        for (int i = 0; i < requests; i++)
        {
            while (!pipeline.submit(new int[] {i}).accepted())
            {
                rejected++;
                Thread.sleep(1);
            }
        }
        if (!done.await(20, TimeUnit.SECONDS) || rejected == 0)
        {
            throw new AssertionError("requests did not complete, or none was rejected (" + rejected + ")");
        }
        pipeline.shutdown(Duration.ofSeconds(5));

        final LeakDetector leaks = LeakDetector.paranoid();
        final SlabArena arena = SlabArena.builder().chunkSize(4096).slabSize(16 * 1024).maxSlabs(1).leakDetector(leaks).build();
        final BufferAllocator alloc = arena.newAllocator("no-jfr");
        final List<BufferDescriptor> held = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            held.add(alloc.allocate());
        }
        try
        {
            alloc.allocate();
            throw new AssertionError("the arena should have been exhausted");
        }
        catch (final SlabExhaustedException expected)
        {
            held.remove(0).release();
        }
        alloc.allocate(); // dropped: the leak
        int found = 0;
        for (int attempt = 0; attempt < 200 && found == 0; attempt++)
        {
            System.gc();
            Thread.sleep(5);
            found = leaks.poll();
        }
        if (found == 0)
        {
            throw new AssertionError("the leak was not found");
        }
        System.out.println("every emission point passed");
    }
}
