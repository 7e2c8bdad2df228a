package io.millrace.jfr;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.lock.LockGrid;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Millrace JFR event, provoked for real and read back from a recording file made with the
 * shipped settings, {@code docs/millrace.jfc}. Nothing is timed: the slow stage sleeps 3 ms, past
 * the 1 ms thresholds, and every other event is counted, not measured.
 *
 * <p>Expected log output: the slab exhaustion and the leak are logged at ERROR by the runtime, as in
 * production; the test captures those lines (see the surefire output file).
 */
class JfrEventsTest
{
    private static final Path SETTINGS = Path.of("../docs/millrace.jfc");
    private static final Set<String> ALL = Set.of(StageDispatchEvent.NAME, RingHopEvent.NAME, WorkerParkEvent.NAME,
        LockWaitEvent.NAME, SlabExhaustedEvent.NAME, LeakReportEvent.NAME, RequestRejectedEvent.NAME);

    @TempDir
    Path dir;

    /** A request of the test pipeline. */
    static final class Job
    {
        final int key;

        Job(final int key)
        {
            this.key = key;
        }
    }

    @Test
    void theShippedSettingsEnableEveryEventWithTheDocumentedThresholds() throws Exception
    {
        final Map<String, String> s = Configuration.create(SETTINGS).getSettings();
        for (final String name : ALL)
        {
            assertEquals("true", s.get(name + "#enabled"), name + " is enabled by docs/millrace.jfc");
        }
        assertEquals("1 ms", s.get(StageDispatchEvent.NAME + "#threshold"));
        assertEquals("1 ms", s.get(LockWaitEvent.NAME + "#threshold"));
        assertEquals("0 ms", s.get(WorkerParkEvent.NAME + "#threshold"));
        assertEquals("true", s.get(SlabExhaustedEvent.NAME + "#stackTrace"));
    }

    @Test
    void disabledEventsAnswerDisabledAndEnabledOnesBegin()
    {
        // No recording here enables them (another test's recording is closed by then).
        assertFalse(RingHopEvent.enabled());
        assertNull(StageDispatchEvent.beginIfEnabled());
        try (Recording r = new Recording())
        {
            r.enable(RingHopEvent.NAME);
            r.disable(LockWaitEvent.NAME);
            r.start();
            assertTrue(JfrSwitch.recorderUp(), "a started recording brings the recorder up");
            assertTrue(RingHopEvent.enabled(), "a running recording that enables it turns it on");
            assertNotNull(StageDispatchEvent.beginIfEnabled(), "on by default: any recording has it");
            assertNull(WorkerParkEvent.beginIfEnabled(), "off by default: only a recording that asks has it");
            assertNull(LockWaitEvent.beginIfEnabled(), "a type the recording turns off stays off");
        }
        assertFalse(RingHopEvent.enabled(), "and off again once the recording is closed");
    }

    @Test
    @Timeout(60)
    void aRecordingHoldsEveryMillraceEventWithItsFields() throws Exception
    {
        final Path file = dir.resolve("millrace.jfr");
        final int requests = 12;
        final LockGrid[] grid = new LockGrid[1];
        final AtomicInteger rejected = new AtomicInteger();
        try (Recording recording = new Recording(Configuration.create(SETTINGS)))
        {
            recording.start();

            // A pipeline that hops (partitioned stage, two workers), waits for a lock-grid cell held
            // across a 3 ms blocking stage, and has room for only four requests at once.
            final PipelineBuilder<Job> b = Pipeline.builder();
            final StageRef<Job> parse = b.stage("parse");
            final StageRef<Job> route = b.stage("route", Placement.partitioned(j -> j.key));
            final StageRef<Job> take = b.stage("take");
            final StageRef<Job> work = b.stage("work", Placement.blocking(1));
            final StageRef<Job> give = b.stage("give");
            grid[0] = LockGrid.builder().name("accounts").rows(take).columns(4).build();
            b.handle(parse, (j, ctx) -> Outcome.next(route))
                .handle(route, (j, ctx) -> Outcome.next(take))
                .handle(take, (j, ctx) -> grid[0].acquire(ctx, 0) ? Outcome.next(work) : Outcome.blocked())
                .handle(work, (j, ctx) ->
                {
                    Thread.sleep(3);
                    return Outcome.next(give);
                })
                .handle(give, (j, ctx) ->
                {
                    grid[0].release(ctx, take, 0);
                    return Outcome.done();
                });
            final CountDownLatch done = new CountDownLatch(requests);
            final List<Throwable> errors = new ArrayList<>();
            final Pipeline<Job> pipeline = b.name("jfr-test").workers(2).partitions(2).maxInFlight(4)
                .idle(Idle.backoff())
                .onComplete((j, e) ->
                {
                    if (e != null)
                    {
                        synchronized (errors)
                        {
                            errors.add(e);
                        }
                    }
                    done.countDown();
                }).build().start();
            try
            {
                for (int i = 0; i < requests; i++)
                {
                    final Job job = new Job(i);
                    SubmitResult result;
                    while ((result = pipeline.submit(job)) == SubmitResult.REJECTED_OVERLOADED)
                    {
                        rejected.incrementAndGet();
                        Thread.sleep(1);
                    }
                    assertEquals(SubmitResult.ACCEPTED, result);
                }
                assertTrue(done.await(30, TimeUnit.SECONDS), "every request completed");
                assertTrue(errors.isEmpty(), () -> "no request failed: " + errors);
                Thread.sleep(20); // idle workers park
            }
            finally
            {
                pipeline.shutdown(Duration.ofSeconds(5));
            }

            // Memory: an arena of four chunks asked for a fifth, and a buffer dropped unreleased.
            final LeakDetector leaks = LeakDetector.paranoid();
            final SlabArena arena = SlabArena.builder().chunkSize(4096).slabSize(16 * 1024).maxSlabs(1)
                .leakDetector(leaks).build();
            final BufferAllocator alloc = arena.newAllocator("jfr-alloc");
            final List<BufferDescriptor> held = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                held.add(alloc.allocate());
            }
            assertThrows(SlabExhaustedException.class, alloc::allocate);
            held.remove(held.size() - 1).release();
            allocateAndForget(alloc);
            int found = 0;
            for (int attempt = 0; attempt < 200 && found == 0; attempt++)
            {
                System.gc();
                Thread.sleep(5);
                found = leaks.poll();
            }
            assertEquals(1, found, "the leak was found");
            held.forEach(BufferDescriptor::release);

            recording.stop();
            recording.dump(file);
        }

        final List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().startsWith("io.millrace.")).toList();
        final Map<String, List<RecordedEvent>> byName = events.stream()
            .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
        assertEquals(ALL, byName.keySet(), "every Millrace event is in the recording");
        for (final RecordedEvent e : events)
        {
            assertEquals("Millrace", e.getEventType().getCategoryNames().get(0), e.getEventType().getName());
        }

        final RecordedEvent slow = byName.get(StageDispatchEvent.NAME).stream()
            .filter(e -> "work".equals(e.getString("stage"))).findFirst().orElseThrow();
        assertEquals("jfr-test", slow.getString("pipeline"));
        assertEquals("blocking(1)", slow.getString("placement"));
        assertEquals(-1, slow.getInt("worker"), "a blocking stage's thread is no worker");
        assertFalse(slow.getBoolean("failed"));
        assertTrue(slow.getDuration().toNanos() >= 3_000_000, "the event spans the 3 ms call: " + slow.getDuration());

        final Set<String> kinds = byName.get(RingHopEvent.NAME).stream().filter(e -> "jfr-test".equals(e.getString("pipeline")))
            .map(e -> e.getString("kind")).collect(Collectors.toSet());
        assertTrue(kinds.containsAll(Set.of("submit", "resume")), "submits and resumes cross rings: " + kinds);
        assertTrue(byName.get(RingHopEvent.NAME).stream().allMatch(e -> e.getLong("ringDepth") >= 1), "depth counts the hop");

        final List<RecordedEvent> waits = byName.get(LockWaitEvent.NAME);
        assertTrue(waits.size() >= 1, "requests waited for the one busy cell");
        for (final RecordedEvent w : waits)
        {
            assertEquals("accounts", w.getString("grid"));
            assertEquals("take", w.getString("stage"));
            assertEquals(grid[0].columnOf(0), w.getInt("dataSet"));
            assertTrue(w.getDuration().toNanos() >= 1_000_000, "past the 1 ms threshold: " + w.getDuration());
        }

        assertTrue(byName.get(WorkerParkEvent.NAME).stream().anyMatch(e -> "jfr-test".equals(e.getString("pipeline"))));

        final List<RecordedEvent> rejections = byName.get(RequestRejectedEvent.NAME);
        assertEquals(rejected.get(), rejections.size(), "one event per REJECTED_OVERLOADED");
        assertEquals("in-flight bound", rejections.get(0).getString("reason"));
        assertEquals(4, rejections.get(0).getLong("maxInFlight"));

        final RecordedEvent exhausted = byName.get(SlabExhaustedEvent.NAME).get(0);
        assertEquals("jfr-alloc", exhausted.getString("allocator"));
        assertEquals(1, exhausted.getInt("maxSlabs"));
        assertFalse(exhausted.getBoolean("directMemoryRefused"));
        assertNotNull(exhausted.getStackTrace(), "who asked");

        final RecordedEvent leak = byName.get(LeakReportEvent.NAME).get(0);
        assertTrue(leak.getString("buffer").startsWith("jfr-alloc#"), leak.getString("buffer"));
        assertTrue(leak.getString("allocationSite").contains("JfrEventsTest.allocateAndForget"), leak.getString("allocationSite"));
        assertTrue(leak.getString("touches").contains("dropped by JfrEventsTest"), leak.getString("touches"));
    }

    /** The leak under test: a buffer allocated, touched and dropped without release. */
    private static void allocateAndForget(final BufferAllocator alloc)
    {
        alloc.allocate().touch("dropped by JfrEventsTest");
    }
}
