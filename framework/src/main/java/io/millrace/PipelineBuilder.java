package io.millrace;

import io.millrace.stage.Placement;
import io.millrace.stage.Stage;
import io.millrace.stage.StageRef;
import io.millrace.worker.AgronaAccess;
import io.millrace.worker.PipelineRuntime;
import io.millrace.worker.StageDef;
import io.millrace.worker.WorkerIoProvider;
import io.millrace.memory.SlabArena;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Defines a pipeline in code: declare the stages, give each a handler, set the runtime's sizes, build.
 *
 * <pre>{@code
 * PipelineBuilder<Order> b = Pipeline.builder();
 * StageRef<Order> parse = b.stage("parse");
 * StageRef<Order> price = b.stage("price", Placement.partitioned(o -> o.customerId));
 * b.handle(parse, (o, ctx) -> Outcome.next(price))
 *  .handle(price, (o, ctx) -> Outcome.done());
 * Pipeline<Order> pipeline = b.workers(2).onComplete((o, err) -> reply(o, err)).build().start();
 * }</pre>
 *
 * <p>Defaults: one worker per available processor, rings of 4096 slots, an in-flight bound of half
 * the ring, {@link Idle#backoff()}, 64 partitions (or the worker count rounded up to a power of two,
 * if larger), the first declared stage as entry. Not thread-safe; a builder builds one pipeline.
 *
 * @param <R> the request type
 */
public final class PipelineBuilder<R>
{
    /** Default slots per inbox ring. */
    public static final int DEFAULT_RING_SIZE = 4096;
    /** Default partition count of partitioned stages, raised to the worker count if that is larger. */
    public static final int DEFAULT_PARTITIONS = 64;

    private final Object token = new Object();
    private final List<StageRef<R>> stages = new ArrayList<>();
    private final Map<String, StageRef<R>> byName = new HashMap<>();
    private final Map<Integer, Stage<R>> handlers = new HashMap<>();
    private String name = "millrace";
    private int workers = Runtime.getRuntime().availableProcessors();
    private int ringSize = DEFAULT_RING_SIZE;
    private int maxInFlight = -1;
    private int partitions = -1;
    private int preallocate = -1;
    private Idle idle = Idle.backoff();
    private int sampleEvery = 1;
    private StageRef<R> entry;
    private CompletionListener<? super R> listener = (request, error) -> { };
    private FatalErrorHandler fatalHandler;
    private SlabArena arena;
    private WorkerIoProvider io;
    private boolean built;

    PipelineBuilder()
    {
    }

    /**
     * Declares an inline stage.
     *
     * @param stageName unique name
     * @return the stage's reference
     */
    public StageRef<R> stage(final String stageName)
    {
        return stage(stageName, Placement.inline());
    }

    /**
     * Declares a stage.
     *
     * @param stageName unique name, used in metrics, logs and thread names
     * @param placement where it runs
     * @return the stage's reference, for {@link #handle} and {@link io.millrace.stage.Outcome#next}
     */
    public StageRef<R> stage(final String stageName, final Placement<? super R> placement)
    {
        checkNotBuilt();
        Objects.requireNonNull(placement, "placement");
        if (stageName == null || stageName.isBlank())
        {
            throw new IllegalArgumentException("a stage needs a non-blank name");
        }
        if (byName.containsKey(stageName))
        {
            throw new IllegalArgumentException("a stage named '" + stageName + "' is already declared; stage names must be unique");
        }
        final StageRef<R> ref = new StageRef<>(token, stageName, stages.size(), placement);
        stages.add(ref);
        byName.put(stageName, ref);
        return ref;
    }

    /**
     * Gives a declared stage its handler.
     *
     * @param stage   a reference returned by this builder
     * @param handler the stage's code
     * @return this builder
     */
    public PipelineBuilder<R> handle(final StageRef<R> stage, final Stage<R> handler)
    {
        checkNotBuilt();
        checkOwn(stage);
        Objects.requireNonNull(handler, "handler");
        if (handlers.putIfAbsent(stage.index(), handler) != null)
        {
            throw new IllegalArgumentException(stage + " already has a handler");
        }
        return this;
    }

    /**
     * @param stage the stage where submitted requests enter; default the first declared
     * @return this builder
     */
    public PipelineBuilder<R> entry(final StageRef<R> stage)
    {
        checkNotBuilt();
        checkOwn(stage);
        entry = stage;
        return this;
    }

    /**
     * @param pipelineName prefix of thread names and log lines
     * @return this builder
     */
    public PipelineBuilder<R> name(final String pipelineName)
    {
        if (pipelineName == null || pipelineName.isBlank())
        {
            throw new IllegalArgumentException("a pipeline needs a non-blank name");
        }
        name = pipelineName;
        return this;
    }

    /**
     * @param count worker threads, at least 1; default available processors. The count is fixed:
     *              it never grows under load.
     * @return this builder
     */
    public PipelineBuilder<R> workers(final int count)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, was " + count);
        }
        workers = count;
        return this;
    }

    /**
     * @param slots slots of each worker's inbox ring, a power of two of at least 2
     * @return this builder
     */
    public PipelineBuilder<R> ringSize(final int slots)
    {
        if (slots < 2 || Integer.bitCount(slots) != 1)
        {
            throw new IllegalArgumentException("ringSize must be a power of two >= 2, was " + slots);
        }
        ringSize = slots;
        return this;
    }

    /**
     * @param requests accepted-but-unfinished requests allowed at once; at most {@code ringSize / 2}
     *                 so that hops between workers always find a free slot. Default {@code ringSize / 2}.
     * @return this builder
     */
    public PipelineBuilder<R> maxInFlight(final int requests)
    {
        if (requests < 1)
        {
            throw new IllegalArgumentException("maxInFlight must be at least 1, was " + requests);
        }
        maxInFlight = requests;
        return this;
    }

    /**
     * @param count default partition count P of partitioned stages: a power of two, at least the
     *              worker count
     * @return this builder
     */
    public PipelineBuilder<R> partitions(final int count)
    {
        if (count < 1 || Integer.bitCount(count) != 1)
        {
            throw new IllegalArgumentException("partitions must be a positive power of two, was " + count);
        }
        partitions = count;
        return this;
    }

    /**
     * @param policy how workers idle when their inbox is empty
     * @return this builder
     */
    public PipelineBuilder<R> idle(final Idle policy)
    {
        idle = Objects.requireNonNull(policy, "idle");
        return this;
    }

    /**
     * Times one request in {@code oneIn} for the service-time histograms (each timed stage costs two
     * {@code System.nanoTime()} reads and a histogram record); the others are only counted. Counts and
     * errors stay exact. Default 1: every request is timed.
     *
     * @param oneIn a power of two, at least 1
     * @return this builder
     */
    public PipelineBuilder<R> serviceTimeSampling(final int oneIn)
    {
        if (oneIn < 1 || Integer.bitCount(oneIn) != 1)
        {
            throw new IllegalArgumentException("serviceTimeSampling must be a power of two >= 1, was " + oneIn);
        }
        sampleEvery = oneIn;
        return this;
    }

    /**
     * @param perWorker request contexts each worker creates at start; default {@code maxInFlight / workers}
     * @return this builder
     */
    public PipelineBuilder<R> preallocate(final int perWorker)
    {
        if (perWorker < 0)
        {
            throw new IllegalArgumentException("preallocate must be >= 0, was " + perWorker);
        }
        preallocate = perWorker;
        return this;
    }

    /**
     * Gives every worker a {@link io.millrace.memory.BufferAllocator} of its own over {@code slabs},
     * which stages reach through {@link io.millrace.stage.StageContext#allocator()} and the
     * transport reads into. The worker sweeps it on its idle turns.
     *
     * @param slabs the arena shared by all workers
     * @return this builder
     */
    public PipelineBuilder<R> memory(final SlabArena slabs)
    {
        arena = Objects.requireNonNull(slabs, "memory(null): pass a SlabArena, e.g. SlabArena.builder().build()");
        return this;
    }

    /**
     * Attaches I/O that each worker polls in its own loop, such as a {@code io.millrace.net.TcpServer}.
     * Needs {@link #memory(SlabArena)}: the transport reads into the workers' pooled buffers.
     *
     * @param provider opens one I/O per worker when the pipeline starts
     * @return this builder
     */
    public PipelineBuilder<R> io(final WorkerIoProvider provider)
    {
        io = Objects.requireNonNull(provider, "io(null)");
        return this;
    }

    /**
     * @param completionListener called once per accepted request, on the completing worker
     * @return this builder
     */
    public PipelineBuilder<R> onComplete(final CompletionListener<? super R> completionListener)
    {
        listener = Objects.requireNonNull(completionListener, "onComplete");
        return this;
    }

    /**
     * What to do when a pipeline thread hits a fatal error (out of memory, an internal VM error).
     * The pipeline is failed either way (intake closed, threads stopped, in-flight requests aborted,
     * {@link Pipeline#failure()} set); a server usually exits here so that a supervisor restarts it.
     *
     * @param handler the handler; it runs on the failing thread and what it throws is ignored
     * @return this builder
     */
    public PipelineBuilder<R> onFatalError(final FatalErrorHandler handler)
    {
        checkNotBuilt();
        fatalHandler = Objects.requireNonNull(handler, "onFatalError");
        return this;
    }

    /**
     * Checks the definition and creates the pipeline (not started).
     *
     * @return the pipeline; call {@link Pipeline#start()}
     * @throws IllegalStateException with what to fix, if the definition is incomplete or inconsistent
     */
    public Pipeline<R> build()
    {
        checkNotBuilt();
        AgronaAccess.check();
        if (stages.isEmpty())
        {
            throw new IllegalStateException("pipeline '" + name + "' has no stages; declare one with stage(name)");
        }
        final List<String> missing = stages.stream().filter(s -> !handlers.containsKey(s.index())).map(StageRef::name).toList();
        if (!missing.isEmpty())
        {
            throw new IllegalStateException("stages without a handler: " + missing + "; give each one with handle(stage, handler)");
        }
        final int inFlight = maxInFlight < 0 ? ringSize / 2 : maxInFlight;
        if (inFlight > ringSize / 2)
        {
            throw new IllegalStateException("maxInFlight " + inFlight + " exceeds ringSize / 2 = " + ringSize / 2 +
                "; raise ringSize to at least " + Integer.highestOneBit(inFlight * 2 - 1) * 2 + " or lower maxInFlight");
        }
        final int defaultPartitions = partitions > 0 ? partitions : Math.max(DEFAULT_PARTITIONS, ceilPowerOfTwo(workers));
        @SuppressWarnings("unchecked")
        final StageDef<R>[] defs = new StageDef[stages.size()];
        for (final StageRef<R> ref : stages)
        {
            int p = 0;
            if (ref.placement() instanceof Placement.Partitioned<?> partitioned)
            {
                p = partitioned.partitions() == 0 ? defaultPartitions : partitioned.partitions();
                if (p < workers)
                {
                    throw new IllegalStateException(ref + " has " + p + " partitions but the pipeline has " + workers +
                        " workers; use at least as many partitions as workers so that every worker owns one");
                }
            }
            defs[ref.index()] = new StageDef<>(ref, p, handlers.get(ref.index()));
        }
        if (io != null && arena == null)
        {
            throw new IllegalStateException("pipeline '" + name + "' has I/O attached but no memory: the transport reads " +
                "into pooled buffers, so call memory(SlabArena.builder().build()) too");
        }
        final int entryIndex = entry == null ? 0 : entry.index();
        final int prealloc = preallocate < 0 ? Math.max(1, inFlight / workers) : preallocate;
        built = true;
        return new Pipeline<>(new PipelineRuntime<>(token, name, defs, entryIndex, workers, ringSize, inFlight, idle, sampleEvery, listener, fatalHandler),
            prealloc, arena, io);
    }

    private static int ceilPowerOfTwo(final int n)
    {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    private void checkOwn(final StageRef<R> stage)
    {
        Objects.requireNonNull(stage, "stage");
        if (!stage.belongsTo(token))
        {
            throw new IllegalArgumentException(stage + " was declared on another builder");
        }
    }

    private void checkNotBuilt()
    {
        if (built)
        {
            throw new IllegalStateException("this builder already built its pipeline; use a new builder");
        }
    }
}
