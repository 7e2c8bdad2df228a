package io.millrace.soak;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineAbortedException;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.SubmitResult;
import io.millrace.lock.LockGrid;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.CancelToken;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.testing.CapturedLog;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static io.millrace.soak.SoakPlan.BL;
import static io.millrace.soak.SoakPlan.E;
import static io.millrace.soak.SoakPlan.IN;
import static io.millrace.soak.SoakPlan.LK;
import static io.millrace.soak.SoakPlan.LK2;
import static io.millrace.soak.SoakPlan.PN;
import static io.millrace.soak.SoakPlan.PT;
import static io.millrace.soak.SoakPlan.STAGES;
import static io.millrace.soak.SoakPlan.STAGE_NAMES;
import static io.millrace.soak.SoakPlan.SU;
import static io.millrace.soak.SoakPlan.UL;

/**
 * One seed of the fault-injection soak: builds the seed's pipeline, offers its requests, ends the
 * run the way the seed says, and checks every invariant. {@link #run()} returns normally or throws
 * an {@link AssertionError} whose message names the seed, how to replay it, and what went wrong.
 *
 * <p>Threads: the test thread submits; one or two "chaos" threads resume suspensions and cancel
 * tokens at their due times; in the mid-load modes a shutdown thread probes the workers and shuts
 * down while the test thread is still submitting.
 */
final class SoakRun
{
    /** Bound of every wait: reaching it means something hangs. Never a speed requirement. */
    static final long LIVENESS_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_PROBLEMS_SHOWN = 25;
    /** Most time one seed spends backing off refused submits before it stops retrying. */
    private static final long RETRY_BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Mid-load, a probe may find the in-flight bound taken by parked requests: it gives up admission after this. */
    private static final long MID_LOAD_PROBE_ADMISSION_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int UNSUBMITTED = 0;
    private static final int ACCEPTED = 1;
    private static final int REJECTED_OVERLOADED = 2;
    private static final int REJECTED_NOT_RUNNING = 3;
    private static final byte[] PAYLOAD = "millrace soak payload".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A request: its plan, and what it did so far. Carried by one thread at a time, handed over by the runtime. */
    static final class Req
    {
        final SoakPlan plan;
        final int id;
        int step;
        CancelToken token;
        HeldBuffer buffer;
        LockMarks marks;
        boolean lkHeld;
        boolean lk2Held;
        boolean childDone;
        boolean timerCancelDone;
        boolean holdThrowsDone;
        /** Set by this request's own resumer before it resumes; checked where the request goes on. */
        volatile boolean ownResume;

        Req(final SoakPlan plan)
        {
            this.plan = plan;
            this.id = plan.id;
        }

        @Override
        public String toString()
        {
            return "request #" + id;
        }
    }

    private final long seed;
    private final SoakShape shape;
    private final String name;
    private final int mainCount;
    private final int probeBase;
    private final int total;
    private final SoakPlan[] plans;
    private final String[] workerNames = new String[SoakShape.WORKERS];

    private final AtomicIntegerArray status;
    private final AtomicIntegerArray completions;
    private final AtomicReferenceArray<Object> firstOutcome;
    private final AtomicInteger acceptedCount = new AtomicInteger();
    private final AtomicInteger completedCount = new AtomicInteger();
    private final AtomicInteger abortedSeen = new AtomicInteger();
    private final AtomicInteger liveBuffers = new AtomicInteger();
    private final AtomicInteger resumesRefused = new AtomicInteger();
    private final AtomicInteger lateResumes = new AtomicInteger();
    private final AtomicLongArray cellOwners;
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    private final AtomicInteger problemCount = new AtomicInteger();
    private final ConcurrentLinkedQueue<Parked> suspensions = new ConcurrentLinkedQueue<>();
    /** Tokens the completion listener reset, for later requests: one token serves many requests in turn. */
    private final ConcurrentLinkedQueue<CancelToken> freeTokens = new ConcurrentLinkedQueue<>();
    private final DelayQueue<Task> chaosQueue = new DelayQueue<>();
    private final List<Thread> chaosThreads = new ArrayList<>();
    private volatile boolean chaosStop;
    private volatile boolean shutdownStarted;
    private volatile boolean shutdownReturned;
    private volatile ShutdownReport report;
    /** Set when a completion listener is to start the shutdown; completed with the shutdown's future. */
    private volatile CompletableFuture<CompletableFuture<ShutdownReport>> listenerShutdown;
    private long retryNanosSpent;
    private long begin;
    private long startedAt;
    private long submittedAt;
    private long shutDownAt;

    @SuppressWarnings("unchecked")
    private final StageRef<Req>[] refs = new StageRef[STAGES];
    private LockGrid grid;
    private Pipeline<Req> pipeline;

    SoakRun(final long seed)
    {
        this.seed = seed;
        final Random rnd = new Random(seed);
        this.shape = new SoakShape(rnd);
        this.name = "soak-" + seed;
        for (int w = 0; w < SoakShape.WORKERS; w++)
        {
            workerNames[w] = name + "-worker-" + w;
        }
        this.mainCount = shape.requests;
        this.probeBase = 2 * mainCount;
        this.total = probeBase + SoakShape.WORKERS;
        this.plans = new SoakPlan[total];
        for (int i = 0; i < mainCount; i++)
        {
            plans[i] = SoakPlan.generate(rnd, i, shape, mainCount + i);
            if (plans[i].child != null)
            {
                plans[mainCount + i] = plans[i].child;
            }
        }
        for (int w = 0; w < SoakShape.WORKERS; w++)
        {
            plans[probeBase + w] = SoakPlan.probe(probeBase + w, w, shape);
        }
        this.status = new AtomicIntegerArray(total);
        this.completions = new AtomicIntegerArray(total);
        this.firstOutcome = new AtomicReferenceArray<>(total);
        this.cellOwners = new AtomicLongArray(2 * shape.gridColumns);
    }

    static String replayHint(final long seed)
    {
        return "replay with: mvn -B -ntp -pl framework test -Dtest=FaultInjectionSoakTest -Dmillrace.soak.seed=" + seed +
            " (or MILLRACE_SOAK_SEED=" + seed + ")";
    }

    // ---------------------------------------------------------------- the run

    /**
     * @return a one-line summary of the run
     * @throws AssertionError naming the seed and every problem found
     */
    String run() throws InterruptedException
    {
        begin = System.nanoTime();
        build();
        startedAt = System.nanoTime();
        for (int i = 0; i < shape.chaosThreads; i++)
        {
            final Thread t = Thread.ofPlatform().name(name + "-chaos-" + i).daemon().start(this::chaosLoop);
            chaosThreads.add(t);
        }
        final CountDownLatch trigger = new CountDownLatch(1);
        Thread shutter = null;
        if (shape.midLoad())
        {
            shutter = Thread.ofPlatform().name(name + "-test-shutdown").daemon().start(() -> midLoadShutdown(trigger));
        }
        try
        {
            for (int i = 0; i < mainCount; i++)
            {
                if (i == shape.shutdownAt)
                {
                    trigger.countDown();
                }
                submitMain(i);
            }
            submittedAt = System.nanoTime();
            trigger.countDown();
            if (shutter == null)
            {
                drainThenShutdown();
            }
            else
            {
                shutter.join(Duration.ofNanos(LIVENESS_NANOS + shape.shutdownDeadlineNanos + TimeUnit.SECONDS.toNanos(5)));
                if (shutter.isAlive())
                {
                    problem("HANG: the mid-load shutdown did not return within the liveness bound; its thread is at " +
                        stack(shutter));
                }
            }
        }
        finally
        {
            if (!shutdownStarted)
            {
                shutdownStarted = true;
                report = pipeline.shutdown(Duration.ofSeconds(1));
                shutdownReturned = true;
            }
            stopChaos();
        }
        shutDownAt = System.nanoTime();
        if (report != null)
        {
            verifyAfterShutdown();
        }
        final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
        if (problemCount.get() > 0)
        {
            final AssertionError failure = new AssertionError(failureMessage(tookMillis));
            // The message says it all; JUnit's and the streams' frames below the test would only bury it.
            failure.setStackTrace(java.util.Arrays.copyOf(failure.getStackTrace(), Math.min(2, failure.getStackTrace().length)));
            throw failure;
        }
        return summary(tookMillis);
    }

    private void build()
    {
        final PipelineBuilder<Req> b = Pipeline.builder();
        final Placement<Req> entry = switch (shape.entryKind)
        {
            case SoakShape.ENTRY_PARTITIONED -> Placement.partitioned(r -> key(r, E));
            case SoakShape.ENTRY_PINNED -> Placement.onWorker(r -> key(r, E));
            default -> Placement.inline();
        };
        refs[E] = b.stage(STAGE_NAMES[E], entry);
        refs[IN] = b.stage(STAGE_NAMES[IN]);
        refs[PT] = b.stage(STAGE_NAMES[PT], shape.ptPartitions == 0 ? Placement.partitioned(r -> key(r, PT)) :
            Placement.partitioned(shape.ptPartitions, r -> key(r, PT)));
        refs[PN] = b.stage(STAGE_NAMES[PN], Placement.onWorker(r -> key(r, PN)));
        refs[BL] = b.stage(STAGE_NAMES[BL], Placement.blocking(shape.blockingThreads));
        refs[SU] = b.stage(STAGE_NAMES[SU]);
        refs[LK] = b.stage(STAGE_NAMES[LK]);
        refs[LK2] = b.stage(STAGE_NAMES[LK2], Placement.partitioned(shape.lk2Partitions, r -> key(r, LK2)));
        refs[UL] = b.stage(STAGE_NAMES[UL]);
        for (int i = 0; i < STAGES; i++)
        {
            final int stage = i;
            b.handle(refs[i], (r, ctx) -> handle(stage, r, ctx));
        }
        grid = LockGrid.builder().name(name).rows(refs[LK], refs[LK2]).columns(shape.gridColumns).build();
        final SlabArena arena = SlabArena.builder().chunkSize(4096).slabSize(64 * 1024).initialSlabs(1).maxSlabs(512).build();
        pipeline = b.name(name).workers(SoakShape.WORKERS).ringSize(shape.ringSize).maxInFlight(shape.maxInFlight)
            .idle(shape.sleepingIdle ? Idle.sleeping(100_000) : Idle.backoff()).serviceTimeSampling(shape.sampling)
            .memory(arena).onComplete(this::onComplete).build().start();
    }

    // ---------------------------------------------------------------- submitting

    private void submitMain(final int i)
    {
        final Req r = new Req(plans[i]);
        final CancelToken token = tokenFor(r.plan);
        r.token = token;
        final SubmitResult result = submitWithRetries(r, token);
        record(r, result);
    }

    private CancelToken tokenFor(final SoakPlan p)
    {
        if (!p.token)
        {
            return null;
        }
        final CancelToken reused = reusableToken(p) ? freeTokens.poll() : null;
        final CancelToken t = reused != null ? reused : new CancelToken();
        switch (p.deadlineKind)
        {
            case SoakPlan.D_PAST -> t.deadlineAt(System.nanoTime() - 1);
            case SoakPlan.D_SHORT -> t.deadlineAfter(Duration.ofNanos(p.deadlineNanos));
            case SoakPlan.D_LONG -> t.deadlineAfter(Duration.ofSeconds(10));
            default ->
            {
            }
        }
        if (p.cancelKind == SoakPlan.C_BEFORE_SUBMIT)
        {
            t.cancel();
        }
        return t;
    }

    /**
     * Whether the request's token may serve another request after it: nothing cancels it after the
     * request completed (a cancel from a chaos thread or a worker timer may come late, and would
     * then cancel whichever request the token serves by then, as documented).
     */
    private static boolean reusableToken(final SoakPlan p)
    {
        return p.cancelKind == SoakPlan.C_NONE || p.cancelKind == SoakPlan.C_BEFORE_SUBMIT || p.cancelKind == SoakPlan.C_SELF;
    }

    /** The request completed or was refused: its token goes back for reuse, reset. */
    private void recycleToken(final Req r, final String where)
    {
        final CancelToken t = r.token;
        if (t == null || !reusableToken(r.plan))
        {
            return;
        }
        try
        {
            t.reset();
            freeTokens.add(t);
        }
        catch (final Throwable ex)
        {
            problem("resetting the cancel token of request #" + r.id + " " + where + " failed: " + ex);
        }
    }

    private SubmitResult submitWithRetries(final Req r, final CancelToken token)
    {
        int retries = 0;
        long backoffStart = 0;
        try
        {
            for (;;)
            {
                final SubmitResult result = pipeline.submit(r, token);
                if (result != SubmitResult.REJECTED_OVERLOADED || retries >= shape.maxRetries ||
                    retryNanosSpent + (backoffStart == 0 ? 0 : System.nanoTime() - backoffStart) > RETRY_BUDGET_NANOS)
                {
                    return result;
                }
                if (backoffStart == 0)
                {
                    backoffStart = System.nanoTime();
                }
                retries++;
                if ((retries & 63) == 0)
                {
                    LockSupport.parkNanos(20_000);
                }
                else if ((retries & 7) == 0)
                {
                    Thread.yield();
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
        }
        finally
        {
            if (backoffStart != 0)
            {
                retryNanosSpent += System.nanoTime() - backoffStart;
            }
        }
    }

    private void record(final Req r, final SubmitResult result)
    {
        final int code = switch (result)
        {
            case ACCEPTED -> ACCEPTED;
            case REJECTED_OVERLOADED -> REJECTED_OVERLOADED;
            case REJECTED_NOT_RUNNING -> REJECTED_NOT_RUNNING;
        };
        if (!status.compareAndSet(r.id, UNSUBMITTED, code))
        {
            problem("request #" + r.id + " was offered twice (test bug)");
        }
        if (result == SubmitResult.ACCEPTED)
        {
            acceptedCount.incrementAndGet();
            if (r.plan.cancelKind == SoakPlan.C_EXTERNAL)
            {
                final CancelToken t = r.token;
                chaosQueue.add(new Task(r.plan.cancelDelayNanos, late -> cancel(r, t)));
            }
        }
        else
        {
            if (shutdownReturned && result == SubmitResult.REJECTED_OVERLOADED)
            {
                problem("request #" + r.id + " was refused as overloaded after the shutdown returned, not as not running");
            }
            recycleToken(r, "after its submit was refused");
        }
    }

    // ---------------------------------------------------------------- stages

    private int key(final Req r, final int stage)
    {
        final SoakPlan p = r.plan;
        if (stage == E && p.slowEntryKeyMicros > 0)
        {
            // A slow key function: widens the window between admission and hand-off at submit.
            LockSupport.parkNanos(p.slowEntryKeyMicros * 1_000L);
        }
        final byte fault = p.keyFault[stage];
        switch (fault)
        {
            case SoakPlan.KEY_RUNTIME -> throw new Injected.Runtime(p.id, fault, "in the key of stage " + STAGE_NAMES[stage]);
            case SoakPlan.KEY_CHECKED -> throw sneaky(new Injected.Checked(p.id, fault, "in the key of stage " + STAGE_NAMES[stage]));
            case SoakPlan.KEY_ASSERTION -> throw new Injected.Assertion(p.id, fault, "in the key of stage " + STAGE_NAMES[stage]);
            case SoakPlan.KEY_SOE -> throw new Injected.StackOverflow(p.id, fault, "in the key of stage " + STAGE_NAMES[stage]);
            case SoakPlan.KEY_SOE_REAL -> recurse(0);
            default ->
            {
            }
        }
        return p.key[stage];
    }

    private Outcome handle(final int stage, final Req r, final StageContext ctx) throws Exception
    {
        final SoakPlan p = r.plan;
        final int step = r.step;
        if (step >= p.path.length || p.path[step] != stage)
        {
            problem("request #" + r.id + " ran stage '" + STAGE_NAMES[stage] + "' at step " + step + " but its plan is " + p);
            throw new AssertionError("misrouted: request #" + r.id + " in stage " + STAGE_NAMES[stage]);
        }
        checkPlacement(stage, r, ctx);
        if (step > 0 && p.path[step - 1] == SU && !r.ownResume)
        {
            problem("request #" + r.id + " went on past its suspension, but its own resumer never resumed it " +
                "(resumed by someone else's stale Suspension?); plan " + p);
        }
        if (stage == LK || stage == LK2)
        {
            if (!acquire(stage, r, ctx))
            {
                return Outcome.blocked(); // parked on a cell; this stage runs again once the cell is ours
            }
        }
        actions(stage, step, r, ctx);
        switch (p.stepFault[step])
        {
            case SoakPlan.RUNTIME -> throw new Injected.Runtime(p.id, SoakPlan.RUNTIME, "in stage " + STAGE_NAMES[stage]);
            case SoakPlan.CHECKED -> throw new Injected.Checked(p.id, SoakPlan.CHECKED, "in stage " + STAGE_NAMES[stage]);
            case SoakPlan.ASSERTION -> throw new Injected.Assertion(p.id, SoakPlan.ASSERTION, "in stage " + STAGE_NAMES[stage]);
            case SoakPlan.SOE -> throw new Injected.StackOverflow(p.id, SoakPlan.SOE, "in stage " + STAGE_NAMES[stage]);
            case SoakPlan.SOE_REAL -> recurse(0);
            case SoakPlan.MISUSE_NULL ->
            {
                return null;
            }
            default ->
            {
            }
        }
        switch (stage)
        {
            case BL ->
            {
                if (p.blockSleepNanos > 0)
                {
                    Thread.sleep(Duration.ofNanos(p.blockSleepNanos)); // bounded; interrupted at shutdown
                }
            }
            case SU ->
            {
                return suspend(r, ctx, step);
            }
            case LK ->
            {
                if (p.lockReleaseAtOnce)
                {
                    releaseLk(r, ctx);
                }
            }
            case UL ->
            {
                if (r.lkHeld)
                {
                    releaseLk(r, ctx);
                }
                if (r.lk2Held)
                {
                    releaseLk2(r, ctx);
                }
            }
            default ->
            {
            }
        }
        return advance(r, step);
    }

    private Outcome advance(final Req r, final int step)
    {
        r.step = step + 1;
        return continuation(r.plan, step);
    }

    private Outcome continuation(final SoakPlan p, final int step)
    {
        return step + 1 < p.path.length ? Outcome.next(refs[p.path[step + 1]]) : Outcome.done();
    }

    private void checkPlacement(final int stage, final Req r, final StageContext ctx)
    {
        final String thread = Thread.currentThread().getName();
        if (stage == BL)
        {
            if (!thread.startsWith(name + "-blocking-"))
            {
                problem("blocking stage ran request #" + r.id + " on " + thread);
            }
            return;
        }
        final int w = ctx.workerIndex();
        if (w < 0 || w >= SoakShape.WORKERS || !thread.equals(workerNames[w]))
        {
            problem("stage '" + STAGE_NAMES[stage] + "' ran request #" + r.id + " on " + thread + " but its context says worker " + w);
            return;
        }
        final boolean partitioned = stage == PT || stage == LK2 || (stage == E && shape.entryKind == SoakShape.ENTRY_PARTITIONED);
        final boolean pinned = stage == PN || (stage == E && shape.entryKind == SoakShape.ENTRY_PINNED);
        if (partitioned && (ctx.partition() < 0 || ctx.partition() % SoakShape.WORKERS != w))
        {
            problem("partitioned stage '" + STAGE_NAMES[stage] + "' ran request #" + r.id + " (partition " + ctx.partition() +
                ") on worker " + w + ", which does not own that partition");
        }
        if (pinned && r.plan.key[stage] != w)
        {
            problem("onWorker stage '" + STAGE_NAMES[stage] + "' ran request #" + r.id + " on worker " + w + " instead of " +
                r.plan.key[stage]);
        }
    }

    private void actions(final int stage, final int step, final Req r, final StageContext ctx)
    {
        final SoakPlan p = r.plan;
        if (p.childStep == step && !r.childDone)
        {
            r.childDone = true;
            final Req child = new Req(p.child);
            child.token = tokenFor(child.plan);
            // From a stage: on a worker this is the local submit path, from a blocking thread a ring publish.
            record(child, pipeline.submit(child, child.token));
        }
        if (p.cancelKind == SoakPlan.C_SELF && p.cancelStep == step)
        {
            r.token.cancel();
        }
        if (p.cancelKind == SoakPlan.C_TIMER && step == 0 && stage != BL && !r.timerCancelDone)
        {
            r.timerCancelDone = true;
            final CancelToken t = r.token;
            ctx.timers().scheduleAfter(p.cancelDelayNanos, (timerId, now) -> cancel(r, t));
        }
        if (p.bufAllocStep == step && r.buffer == null && stage != BL)
        {
            final BufferDescriptor d = ctx.allocator().allocate();
            d.put(ByteBuffer.wrap(PAYLOAD));
            liveBuffers.incrementAndGet();
            r.buffer = new HeldBuffer(r, d);
            ctx.hold(r.buffer);
        }
        if (p.bufReleaseStep == step && r.buffer != null && !r.buffer.released())
        {
            ctx.unhold(r.buffer);
            keepMarksLast(r, ctx); // unhold moved the last held resource into the buffer's slot
            r.buffer.release("by its stage"); // in the blocking stage: a release on a foreign thread
        }
        if (p.holdThrowsStep == step && !r.holdThrowsDone)
        {
            r.holdThrowsDone = true;
            final int id = r.id;
            ctx.hold(holder ->
            {
                if ((id & 1) == 0)
                {
                    throw new Injected.Runtime(id, SoakPlan.HOLD_THROWS, "releasing a held resource");
                }
                throw new Injected.Assertion(id, SoakPlan.HOLD_THROWS, "releasing a held resource");
            });
        }
    }

    private Outcome suspend(final Req r, final StageContext ctx, final int step) throws Exception
    {
        final SoakPlan p = r.plan;
        r.step = step + 1;
        final Outcome resumeWith = p.resumeOutcome == SoakPlan.O_DONE ? Outcome.done() : continuation(p, step);
        final Suspension s = ctx.suspend();
        suspensions.add(new Parked(r, s));
        switch (p.resumeKind)
        {
            case SoakPlan.R_IMMEDIATE -> resumeOwn(r, s, resumeWith, false);
            case SoakPlan.R_IMMEDIATE_TWICE ->
            {
                resumeOwn(r, s, resumeWith, false);
                try
                {
                    s.resume(resumeWith);
                    problem("a second resume of request #" + r.id + "'s suspension succeeded; plan " + p);
                }
                catch (final IllegalStateException expected)
                {
                    // resume exactly once: the second one is refused
                }
            }
            case SoakPlan.R_EXTERNAL -> chaosQueue.add(new Task(p.resumeDelayNanos, late -> resumeOwn(r, s, resumeWith, late)));
            case SoakPlan.R_TIMER -> ctx.timers().scheduleAfter(p.resumeDelayNanos, (timerId, now) -> resumeOwn(r, s, resumeWith, false));
            case SoakPlan.R_HOOK -> ctx.atEndOfTurn(() -> resumeOwn(r, s, resumeWith, false));
            default ->
            {
                // never: left to a cancellation or to the shutdown
            }
        }
        if (p.throwAfterSuspend)
        {
            throw new Injected.Runtime(p.id, SoakPlan.AFTER_SUSPEND, "after suspending in stage " + STAGE_NAMES[SU]);
        }
        return Outcome.blocked();
    }

    /** A resumer: the chaos thread, a worker timer, an end-of-turn hook or the suspending stage itself. */
    private void resumeOwn(final Req r, final Suspension s, final Outcome outcome, final boolean late)
    {
        final int completedBefore = completions.get(r.id);
        r.ownResume = true;
        try
        {
            if (r.plan.resumeOutcome == SoakPlan.O_FAIL)
            {
                s.fail(new Injected.Runtime(r.id, SoakPlan.RESUME_FAIL, "through Suspension.fail"));
            }
            else
            {
                s.resume(outcome);
            }
            if (late || shutdownReturned)
            {
                problem("resuming request #" + r.id + " after the shutdown returned succeeded");
            }
            else if (completedBefore > 0)
            {
                problem("request #" + r.id + " had already completed, yet resuming its suspension succeeded: the resume " +
                    "reached whichever request now uses its recycled context; plan " + r.plan);
            }
        }
        catch (final IllegalStateException ex)
        {
            resumesRefused.incrementAndGet();
            if (!late && !shutdownStarted && !r.plan.mayBeWithdrawn())
            {
                problem("resuming request #" + r.id + " was refused although it was neither cancelled nor aborted (" +
                    ex.getMessage() + "); plan " + r.plan);
            }
        }
        catch (final Throwable ex)
        {
            problem("resuming request #" + r.id + " threw " + ex + (late ? " (after the shutdown)" : "") + "; plan " + r.plan);
        }
    }

    private void cancel(final Req r, final CancelToken t)
    {
        try
        {
            t.cancel();
        }
        catch (final Throwable ex)
        {
            problem("CancelToken.cancel() of request #" + r.id + " threw " + ex + "; plan " + r.plan);
        }
    }

    // ---------------------------------------------------------------- locks

    private boolean acquire(final int stage, final Req r, final StageContext ctx)
    {
        final SoakPlan p = r.plan;
        final boolean got;
        if (stage == LK)
        {
            got = p.lockKeys.length == 1 ? grid.acquire(ctx, p.lockKeys[0]) : grid.acquireAll(ctx, p.lockKeys);
        }
        else
        {
            got = grid.acquire(ctx, p.lock2Key);
        }
        if (!got)
        {
            return false;
        }
        if (r.marks == null)
        {
            r.marks = new LockMarks(r);
        }
        if (stage == LK)
        {
            r.lkHeld = true;
            for (final long key : p.lockKeys)
            {
                r.marks.mark(grid.columnOf(key));
            }
        }
        else
        {
            r.lk2Held = true;
            r.marks.mark(shape.gridColumns + grid.columnOf(p.lock2Key));
        }
        // Held (again) last: see keepMarksLast.
        ctx.unhold(r.marks);
        ctx.hold(r.marks);
        return true;
    }

    /**
     * Keeps the marks last among the request's held resources, so that when the runtime releases
     * them for a completed request (last held first) the marks are cleared before any cell is handed on.
     */
    private static void keepMarksLast(final Req r, final StageContext ctx)
    {
        if (r.marks != null && ctx.unhold(r.marks))
        {
            ctx.hold(r.marks);
        }
    }

    private void releaseLk(final Req r, final StageContext ctx)
    {
        final SoakPlan p = r.plan;
        for (final long key : p.lockKeys)
        {
            r.marks.unmark(grid.columnOf(key));
        }
        r.lkHeld = false;
        if (p.lockKeys.length == 1)
        {
            grid.release(ctx, refs[LK], p.lockKeys[0]);
        }
        else
        {
            grid.releaseAll(ctx, refs[LK], p.lockKeys);
        }
    }

    private void releaseLk2(final Req r, final StageContext ctx)
    {
        r.marks.unmark(shape.gridColumns + grid.columnOf(r.plan.lock2Key));
        r.lk2Held = false;
        grid.release(ctx, refs[LK2], r.plan.lock2Key);
    }

    /**
     * The test's own record of who holds which cell: a second owner at once is a mutual-exclusion
     * failure. Held by the request after its cells, so that when the runtime releases a completed
     * request's cells, the marks go first.
     */
    private final class LockMarks implements HeldResource
    {
        private final Req r;
        private final int[] cells = new int[4];
        private int count;

        LockMarks(final Req r)
        {
            this.r = r;
        }

        void mark(final int cell)
        {
            for (int i = 0; i < count; i++)
            {
                if (cells[i] == cell)
                {
                    return; // two keys in one column: one cell
                }
            }
            final long me = r.id + 1L;
            if (!cellOwners.compareAndSet(cell, 0, me))
            {
                problem("mutual exclusion broken: request #" + r.id + " took lock-grid cell " + cell + " still held by request #" +
                    (cellOwners.get(cell) - 1));
                return;
            }
            cells[count++] = cell;
        }

        void unmark(final int cell)
        {
            for (int i = 0; i < count; i++)
            {
                if (cells[i] == cell)
                {
                    if (!cellOwners.compareAndSet(cell, r.id + 1L, 0))
                    {
                        problem("lock-grid cell " + cell + " held by request #" + r.id + " was marked by request #" + (cellOwners.get(cell) - 1));
                    }
                    cells[i] = cells[--count];
                    return;
                }
            }
        }

        int count()
        {
            return count;
        }

        @Override
        public void releaseAbandoned(final StageContext holder)
        {
            while (count > 0)
            {
                unmark(cells[count - 1]);
            }
        }
    }

    /** A pooled buffer the request holds across stages. */
    private final class HeldBuffer implements HeldResource
    {
        private final Req r;
        private final BufferDescriptor d;
        private final AtomicBoolean released = new AtomicBoolean();

        HeldBuffer(final Req r, final BufferDescriptor d)
        {
            this.r = r;
            this.d = d;
        }

        boolean released()
        {
            return released.get();
        }

        void release(final String by)
        {
            if (!released.compareAndSet(false, true))
            {
                problem("the buffer of request #" + r.id + " was released twice, the second time " + by);
                return;
            }
            d.release();
            liveBuffers.decrementAndGet();
        }

        @Override
        public void releaseAbandoned(final StageContext holder)
        {
            release("by the runtime for the completed request");
        }
    }

    // ---------------------------------------------------------------- completion

    private void onComplete(final Req r, final Throwable error)
    {
        final int id = r.id;
        final int n = completions.incrementAndGet(id);
        if (n == 1)
        {
            firstOutcome.set(id, error == null ? Boolean.TRUE : error);
        }
        else
        {
            problem("request #" + id + " completed " + n + " times: first with " + describe(firstOutcome.get(id)) + ", now with " +
                describe(error) + "; plan " + r.plan);
        }
        if (shutdownReturned)
        {
            problem("request #" + id + " completed (" + describe(error) + ") after the shutdown had returned; plan " + r.plan);
        }
        if (error instanceof PipelineAbortedException)
        {
            abortedSeen.incrementAndGet();
        }
        final String wrong = check(r, error);
        if (wrong != null)
        {
            problem("request #" + id + " " + wrong + "; plan " + r.plan);
        }
        // Aborted while its blocking call still ran: the call keeps what the request holds until it
        // returns, and its thread gives it back then (checked at the end: no buffer, no chunk left).
        final boolean heldByRunningCall = error instanceof PipelineAbortedException &&
            String.valueOf(error.getMessage()).contains("running in blocking stage");
        if (r.buffer != null && !r.buffer.released() && !heldByRunningCall)
        {
            problem("request #" + id + " completed while still holding its buffer; plan " + r.plan);
        }
        if (r.marks != null && r.marks.count() > 0 && !heldByRunningCall)
        {
            problem("request #" + id + " completed while still marked as owner of " + r.marks.count() + " lock cell(s); plan " + r.plan);
        }
        recycleToken(r, "in the completion listener");
        final CompletableFuture<CompletableFuture<ShutdownReport>> asked = listenerShutdown;
        if (asked != null && !asked.isDone())
        {
            try
            {
                pipeline.shutdown(Duration.ZERO);
                problem("shutdown() on a pipeline thread (" + Thread.currentThread().getName() + ") did not refuse");
            }
            catch (final IllegalStateException expected)
            {
                // it would wait for its own thread: shutdownAsync is the way from here
            }
            asked.complete(pipeline.shutdownAsync(Duration.ofNanos(shape.shutdownDeadlineNanos)));
        }
        completedCount.incrementAndGet();
        if (r.plan.listenerThrows)
        {
            if ((id & 1) == 0)
            {
                throw new Injected.Runtime(id, SoakPlan.NONE, "in the completion listener");
            }
            throw new Injected.StackOverflow(id, SoakPlan.NONE, "in the completion listener");
        }
    }

    /** @return null if {@code error} is a completion the plan allows, else what is wrong */
    private String check(final Req r, final Throwable error)
    {
        final SoakPlan p = r.plan;
        if (p.probe)
        {
            return error == null ? null : "(a probe) failed with " + describe(error);
        }
        if (error == null)
        {
            if (!p.successPossible())
            {
                return "completed successfully although its plan cannot succeed";
            }
            if (p.stepOf(SU) >= 0 && !r.ownResume)
            {
                return "completed successfully past its suspension, which its own resumer never resumed";
            }
            return null;
        }
        if (error instanceof Injected injected)
        {
            if (injected.requestId() != p.id)
            {
                return "completed with the injected error of request #" + injected.requestId() + ": " + error;
            }
            return p.mayFailWith(injected.code()) ? null : "completed with an injected error its plan does not have: " + error;
        }
        if (error instanceof RequestCancelledException cancelled)
        {
            if (cancelled.reason() == RequestCancelledException.Reason.CANCELLED && !p.cancels())
            {
                return "completed as cancelled, but nothing cancels it: " + error;
            }
            if (cancelled.reason() == RequestCancelledException.Reason.DEADLINE_EXCEEDED && !p.hasDeadline())
            {
                return "completed with deadline exceeded, but it has no deadline: " + error;
            }
            return null;
        }
        if (error instanceof PipelineAbortedException)
        {
            return shutdownStarted ? null : "was aborted before any shutdown: " + error;
        }
        if (error instanceof StackOverflowError && (p.mayFailWith(SoakPlan.SOE_REAL) || p.mayFailWith(SoakPlan.KEY_SOE_REAL)))
        {
            return null;
        }
        if (error instanceof IllegalArgumentException && p.mayFailWith(SoakPlan.KEY_OUT_OF_RANGE))
        {
            return null;
        }
        if (error instanceof IllegalStateException && p.mayFailWith(SoakPlan.MISUSE_NULL) && String.valueOf(error.getMessage()).contains("returned null"))
        {
            return null;
        }
        return "completed with an unexpected error: " + describe(error);
    }

    // ---------------------------------------------------------------- ending the run

    private void midLoadShutdown(final CountDownLatch trigger)
    {
        try
        {
            if (!trigger.await(LIVENESS_NANOS, TimeUnit.NANOSECONDS))
            {
                problem("the submitter never reached request " + shape.shutdownAt);
            }
            LockSupport.parkNanos(shape.shutdownDelayNanos);
            if (shape.probeMidLoad)
            {
                probeWorkers(false);
            }
            checkWorkersAlive("just before the shutdown");
            shutdownStarted = true;
            final Duration deadline = Duration.ofNanos(shape.shutdownDeadlineNanos);
            if (shape.shutdownFromListener)
            {
                // The next completion listener, on a worker, starts it with shutdownAsync; if none
                // comes soon (everything parked), this thread does.
                listenerShutdown = new CompletableFuture<>();
                final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
                while (!listenerShutdown.isDone() && System.nanoTime() - until < 0)
                {
                    LockSupport.parkNanos(100_000);
                }
                if (!listenerShutdown.isDone())
                {
                    listenerShutdown.complete(pipeline.shutdownAsync(deadline));
                }
                report = listenerShutdown.get().get(LIVENESS_NANOS + shape.shutdownDeadlineNanos, TimeUnit.NANOSECONDS);
            }
            else
            {
                report = pipeline.shutdown(deadline);
            }
            shutdownReturned = true;
        }
        catch (final Throwable ex)
        {
            problem("the mid-load shutdown thread failed: " + ex);
        }
    }

    private void drainThenShutdown()
    {
        if (!await(this::allAcceptedCompleted, LIVENESS_NANOS))
        {
            problem("HANG: accepted requests still not completed after " + TimeUnit.NANOSECONDS.toSeconds(LIVENESS_NANOS) +
                " s: " + pending(10));
        }
        probeWorkers(true);
        checkWorkersAlive("just before the shutdown");
        shutdownStarted = true;
        report = pipeline.shutdown(Duration.ofNanos(shape.shutdownDeadlineNanos));
        shutdownReturned = true;
        if (report.aborted() != 0 || report.dropped() != 0)
        {
            problem("a shutdown after every request completed aborted " + report.aborted() + " and dropped " + report.dropped() + ": " + report);
        }
    }

    private boolean allAcceptedCompleted()
    {
        if (completedCount.get() < acceptedCount.get())
        {
            return false;
        }
        for (int id = 0; id < total; id++)
        {
            if (status.get(id) == ACCEPTED && completions.get(id) == 0)
            {
                return false;
            }
        }
        return true;
    }

    /** Every worker completes a request pinned to it: none is dead or wedged. */
    private void probeWorkers(final boolean required)
    {
        for (int w = 0; w < SoakShape.WORKERS; w++)
        {
            final Req probe = new Req(plans[probeBase + w]);
            final long admitBy = System.nanoTime() + (required ? LIVENESS_NANOS : MID_LOAD_PROBE_ADMISSION_NANOS);
            SubmitResult result;
            while ((result = pipeline.submit(probe)) == SubmitResult.REJECTED_OVERLOADED && System.nanoTime() - admitBy < 0)
            {
                LockSupport.parkNanos(100_000);
            }
            record(probe, result);
            if (result != SubmitResult.ACCEPTED)
            {
                if (required)
                {
                    problem("the probe for worker " + w + " was never admitted: " + result + ", " + pipeline.metrics().inFlight() + " in flight");
                }
                continue;
            }
            final int id = probe.id;
            if (!await(() -> completions.get(id) > 0, LIVENESS_NANOS))
            {
                problem("worker " + w + " is lost or wedged: its probe did not complete within " +
                    TimeUnit.NANOSECONDS.toSeconds(LIVENESS_NANOS) + " s; worker thread at " + stack(workerThread(w)));
            }
        }
    }

    private void checkWorkersAlive(final String when)
    {
        for (int w = 0; w < SoakShape.WORKERS; w++)
        {
            final Thread t = workerThread(w);
            if (t == null || !t.isAlive())
            {
                problem("worker thread " + workerNames[w] + " is gone " + when);
            }
        }
        if (pipeline.failure() != null)
        {
            problem("the pipeline failed " + when + ": " + pipeline.failure());
        }
    }

    private Thread workerThread(final int w)
    {
        for (final Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.getName().equals(workerNames[w]))
            {
                return t;
            }
        }
        return null;
    }

    private void stopChaos() throws InterruptedException
    {
        chaosStop = true;
        for (final Thread t : chaosThreads)
        {
            t.join(Duration.ofNanos(LIVENESS_NANOS));
            if (t.isAlive())
            {
                problem("HANG: chaos thread " + t.getName() + " did not stop; it is at " + stack(t));
            }
        }
        // What was still due runs now, after the shutdown: every resume must be refused, cancels are no-ops.
        Task task;
        while ((task = chaosQueue.poll(0, TimeUnit.NANOSECONDS)) != null || (task = pollAny()) != null)
        {
            task.action.run(true);
        }
    }

    private Task pollAny()
    {
        final java.util.Iterator<Task> it = chaosQueue.iterator();
        if (it.hasNext())
        {
            final Task t = it.next();
            chaosQueue.remove(t);
            return t;
        }
        return null;
    }

    private void chaosLoop()
    {
        while (!chaosStop)
        {
            try
            {
                final Task task = chaosQueue.poll(2, TimeUnit.MILLISECONDS);
                if (task != null)
                {
                    task.action.run(false);
                }
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            catch (final Throwable ex)
            {
                problem("chaos thread failed: " + ex);
            }
        }
    }

    private void verifyAfterShutdown()
    {
        final ShutdownReport r = report;
        // Blocking threads were interrupted by the shutdown; anything they still do must change nothing.
        if (!await(() -> pipelineThreads().isEmpty(), LIVENESS_NANOS))
        {
            problem("pipeline threads still alive long after the shutdown: " + pipelineThreads());
        }
        // Late resumes: after the shutdown no suspension may be resumable.
        for (final Parked parked : suspensions)
        {
            try
            {
                parked.suspension.resume(Outcome.done());
                problem("resuming request #" + parked.request.id + "'s suspension after the shutdown succeeded");
            }
            catch (final IllegalStateException expected)
            {
                lateResumes.incrementAndGet();
            }
            catch (final Throwable ex)
            {
                problem("resuming request #" + parked.request.id + "'s suspension after the shutdown threw " + ex);
            }
        }
        int accepted = 0;
        int rejected = 0;
        final StringBuilder lost = new StringBuilder();
        final StringBuilder extra = new StringBuilder();
        int lostCount = 0;
        for (int id = 0; id < total; id++)
        {
            final int st = status.get(id);
            final int c = completions.get(id);
            if (st == ACCEPTED)
            {
                accepted++;
                if (c != 1)
                {
                    if (c == 0 && lostCount++ < 10)
                    {
                        lost.append("\n      #").append(id).append(" ").append(plans[id]);
                    }
                    if (c > 1)
                    {
                        extra.append(" #").append(id);
                    }
                }
            }
            else
            {
                if (st != UNSUBMITTED)
                {
                    rejected++;
                }
                if (c != 0)
                {
                    problem("request #" + id + " was " + (st == UNSUBMITTED ? "never submitted" : "rejected") + " but completed " + c + " time(s)");
                }
            }
        }
        if (lostCount > 0)
        {
            problem("LOST: " + lostCount + " accepted request(s) never completed although the shutdown returned:" + lost);
        }
        if (extra.length() > 0)
        {
            problem("DUPLICATED: accepted requests completed more than once:" + extra);
        }
        final MetricsSnapshot m = pipeline.metrics();
        if (m.inFlight() != 0)
        {
            problem("PERMITS LEAKED: " + m.inFlight() + " in-flight permit(s) after the shutdown (accepted " + accepted + ", completions " +
                completedCount.get() + ")");
        }
        for (final WorkerMetrics w : m.workers())
        {
            if (w.bufferChunks().live() != 0)
            {
                problem("CHUNKS LEAKED: worker " + w.index() + " reports " + w.bufferChunks().live() + " live chunk(s) after the shutdown: " +
                    w.bufferChunks());
            }
        }
        if (liveBuffers.get() != 0)
        {
            problem(liveBuffers.get() + " buffer(s) taken by requests were never released");
        }
        if (pipeline.failure() != null)
        {
            problem("the pipeline failed: " + pipeline.failure());
        }
        if (r != null)
        {
            if (r.dropped() != 0)
            {
                problem("the shutdown dropped " + r.dropped() + " request(s): " + r);
            }
            for (final String stuck : r.stuckThreadNames())
            {
                if (stuck.contains("-worker-"))
                {
                    problem("a worker was stuck at shutdown: " + r);
                }
            }
            if (r.aborted() != abortedSeen.get())
            {
                problem("the shutdown reports " + r.aborted() + " aborted request(s) but " + abortedSeen.get() +
                    " completed with PipelineAbortedException: " + r);
            }
        }
        if (r != null && !r.equals(pipeline.shutdown(Duration.ofSeconds(1))))
        {
            problem("a second shutdown returned another report than the first: " + r);
        }
        final List<CapturedLog.Line> internal = CapturedLog.lines("pipeline '" + name + "' runtime");
        if (!internal.isEmpty())
        {
            problem("the runtime logged internal errors: " + internal.stream()
                .map(l -> l.message() + (l.error() == null ? "" : " " + l.error())).limit(3).collect(Collectors.joining("; ")));
        }
    }

    private Set<String> pipelineThreads()
    {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
            .filter(n -> n.startsWith(name + "-worker-") || n.startsWith(name + "-blocking-")).collect(Collectors.toSet());
    }

    // ---------------------------------------------------------------- helpers

    private static boolean await(final BooleanSupplier condition, final long timeoutNanos)
    {
        final long until = System.nanoTime() + timeoutNanos;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - until > 0)
            {
                return false;
            }
            LockSupport.parkNanos(200_000);
        }
        return true;
    }

    private String pending(final int max)
    {
        final StringBuilder s = new StringBuilder();
        int n = 0;
        for (int id = 0; id < total; id++)
        {
            if (status.get(id) == ACCEPTED && completions.get(id) == 0)
            {
                if (n < max)
                {
                    s.append("\n      #").append(id).append(" ").append(plans[id]);
                }
                n++;
            }
        }
        return n + " pending, in flight " + pipeline.metrics().inFlight() + s;
    }

    void problem(final String what)
    {
        if (problemCount.incrementAndGet() <= 1000)
        {
            problems.add(what);
        }
    }

    private static String describe(final Object outcome)
    {
        if (outcome == null || outcome == Boolean.TRUE)
        {
            return "success";
        }
        final Throwable t = (Throwable)outcome;
        return t.getClass().getName() + ": " + t.getMessage();
    }

    private static String kind(final Object outcome)
    {
        if (outcome == null)
        {
            return "-";
        }
        if (outcome == Boolean.TRUE)
        {
            return "success";
        }
        if (outcome instanceof Injected injected)
        {
            return "injected " + SoakPlan.faultName(injected.code());
        }
        if (outcome instanceof RequestCancelledException cancelled)
        {
            return cancelled.reason().name().toLowerCase(java.util.Locale.ROOT);
        }
        if (outcome instanceof PipelineAbortedException)
        {
            return "aborted";
        }
        return outcome.getClass().getSimpleName();
    }

    private static String stack(final Thread t)
    {
        if (t == null)
        {
            return "(no such thread)";
        }
        final StringBuilder s = new StringBuilder(t.getName()).append(" ").append(t.getState());
        for (final StackTraceElement e : t.getStackTrace())
        {
            s.append("\n        at ").append(e);
        }
        return s.toString();
    }

    private String failureMessage(final long tookMillis)
    {
        final Map<String, Integer> outcomes = new TreeMap<>();
        int rejectedOverloaded = 0;
        int rejectedNotRunning = 0;
        for (int id = 0; id < total; id++)
        {
            switch (status.get(id))
            {
                case REJECTED_OVERLOADED -> rejectedOverloaded++;
                case REJECTED_NOT_RUNNING -> rejectedNotRunning++;
                case ACCEPTED -> outcomes.merge(kind(firstOutcome.get(id)), 1, Integer::sum);
                default ->
                {
                }
            }
        }
        final StringBuilder s = new StringBuilder("fault-injection soak, seed ").append(seed).append(": ").append(problemCount.get())
            .append(" problem(s) in ").append(tookMillis).append(" ms\n  ").append(replayHint(seed))
            .append("\n  (the plans replay exactly; thread interleavings do not, so a race may need a few runs)")
            .append("\n  shape: ").append(shape)
            .append("\n  accepted ").append(acceptedCount.get()).append(", rejected overloaded ").append(rejectedOverloaded)
            .append(", rejected not running ").append(rejectedNotRunning).append("; outcomes ").append(outcomes)
            .append("\n  resumes refused ").append(resumesRefused.get()).append(", late resumes refused ").append(lateResumes.get())
            .append("\n  shutdown: ").append(report).append("\n  problems:");
        int shown = 0;
        for (final String p : problems)
        {
            if (shown++ == MAX_PROBLEMS_SHOWN)
            {
                s.append("\n    ... and ").append(problemCount.get() - MAX_PROBLEMS_SHOWN).append(" more");
                break;
            }
            s.append("\n    - ").append(p);
        }
        return s.toString();
    }

    private static long millis(final long nanos)
    {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    String summary(final long tookMillis)
    {
        return "seed " + seed + " ok in " + tookMillis + " ms (start " + millis(startedAt - begin) + ", submit " +
            millis(submittedAt - startedAt) + ", end " + millis(shutDownAt - submittedAt) + ", checks " + millis(System.nanoTime() - shutDownAt) +
            "): " + shape + "; accepted " + acceptedCount.get() + ", aborted " + abortedSeen.get() + ", report " + report;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(final Throwable t) throws T
    {
        throw (T)t;
    }

    /** Runaway recursion: a real StackOverflowError. */
    static int recurse(final int depth)
    {
        return depth == Integer.MIN_VALUE ? 0 : recurse(depth + 1) + 1;
    }

    /** A suspension handed out, for the after-shutdown check that none can be resumed any more. */
    private record Parked(Req request, Suspension suspension)
    {
    }

    /** What a chaos thread does when a task is due; {@code late} once the run has shut down. */
    @FunctionalInterface
    private interface Action
    {
        void run(boolean late);
    }

    private static final class Task implements Delayed
    {
        private final long due;
        final Action action;

        Task(final long delayNanos, final Action action)
        {
            this.due = System.nanoTime() + delayNanos;
            this.action = action;
        }

        @Override
        public long getDelay(final TimeUnit unit)
        {
            return unit.convert(due - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(final Delayed o)
        {
            return Long.compare(due, ((Task)o).due);
        }
    }
}
