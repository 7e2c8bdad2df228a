package io.millrace.worker;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pipeline's metrics: the intake's rejection counters, and the assembly of a
 * {@link MetricsSnapshot} from what the workers and blocking pools count themselves.
 *
 * <p>Threading: the rejection counters are atomics, added to by submitting threads. A snapshot may
 * be taken from any thread; {@link #snapshotLock} serialises snapshots because each collects the
 * lanes' recordings into the cumulative histograms here, which only it touches, by the handshake
 * described in {@link Lane} (no ring slot, no allocation but the snapshot it returns).
 *
 * @param <R> the request type
 */
final class PipelineMetrics<R>
{
    /** How long a snapshot waits in all for busy threads to hand their histograms over. */
    static final long MAX_COLLECT_WAIT_NANOS = 50_000_000L;

    private final StageDef<R>[] stages;
    private final Worker<R>[] workers;
    private final InFlightGate gate;
    private final java.util.concurrent.atomic.AtomicReference<Throwable> failure;
    private final AtomicLong rejectedOverloaded = new AtomicLong();
    private final AtomicLong rejectedNotRunning = new AtomicLong();

    private final Object snapshotLock = new Object();
    /** Every worker's lane (by worker index), then every blocking thread's. */
    private final Lane[] lanes;
    private final Histogram[] serviceTimes;
    private final Histogram[] queueWaits;
    private final Histogram endToEnd;
    /** By lane: the worker's batch sizes; null for blocking threads' lanes. */
    private final Histogram[] batchSizes;

    /**
     * @param stages   compiled stages, by index
     * @param workers  the workers, by index
     * @param pools    blocking pools by stage index, null for other stages
     * @param gate     the in-flight gate
     * @param ringSize slots per inbox ring, the largest possible batch
     */
    PipelineMetrics(final StageDef<R>[] stages, final Worker<R>[] workers, final BlockingStagePool<R>[] pools,
        final InFlightGate gate, final int ringSize, final java.util.concurrent.atomic.AtomicReference<Throwable> failure)
    {
        this.failure = failure;
        this.stages = stages;
        this.workers = workers;
        this.gate = gate;
        this.serviceTimes = new Histogram[stages.length];
        this.queueWaits = new Histogram[stages.length];
        for (final StageDef<R> stage : stages)
        {
            serviceTimes[stage.index] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
            queueWaits[stage.index] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
        }
        this.endToEnd = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);

        final List<Lane> all = new ArrayList<>();
        for (final Worker<R> worker : workers)
        {
            all.add(worker.lane());
        }
        for (final BlockingStagePool<R> pool : pools)
        {
            if (pool != null)
            {
                all.addAll(List.of(pool.lanes()));
            }
        }
        this.lanes = all.toArray(new Lane[0]);
        this.batchSizes = new Histogram[lanes.length];
        for (int i = 0; i < workers.length; i++)
        {
            batchSizes[i] = new Histogram(1, Math.max(2, ringSize), 2);
        }
    }

    void countRejectedOverloaded()
    {
        rejectedOverloaded.incrementAndGet();
    }

    void countRejectedNotRunning()
    {
        rejectedNotRunning.incrementAndGet();
    }

    /**
     * Collects the lanes' histograms, waiting up to {@link #MAX_COLLECT_WAIT_NANOS} for busy threads,
     * then reads the counters.
     *
     * @return a snapshot of every counter; allocation on the caller only (the snapshot itself)
     */
    MetricsSnapshot snapshot()
    {
        synchronized (snapshotLock)
        {
            Lane.collect(lanes, serviceTimes, queueWaits, endToEnd, batchSizes, MAX_COLLECT_WAIT_NANOS);
            // Counters after histograms: a histogram's total never runs ahead of its counts.
            final List<StageMetrics> stageMetrics = new ArrayList<>(stages.length);
            for (final StageDef<R> stage : stages)
            {
                final int s = stage.index;
                long dispatches = 0;
                long redispatches = 0;
                long parked = 0;
                long errors = 0;
                for (final Lane lane : lanes)
                {
                    dispatches += lane.dispatches(s);
                    redispatches += lane.redispatches(s);
                    parked += lane.parked(s);
                    errors += lane.errors(s);
                }
                stageMetrics.add(new StageMetrics(stage.name, stage.placementText, stage.partitions(), dispatches,
                    Math.max(0, dispatches - redispatches), parked, errors, serviceTimes[s].copy(), queueWaits[s].copy()));
            }
            final List<WorkerMetrics> workerMetrics = new ArrayList<>(workers.length);
            for (final Worker<R> w : workers)
            {
                workerMetrics.add(new WorkerMetrics(w.index(), w.thread().getName(), w.ringDepth(), w.ringCapacity(),
                    w.counter(WorkerCounters.RECEIVED), w.counter(WorkerCounters.SUBMITS_RECEIVED),
                    w.counter(WorkerCounters.BATCHES), w.counter(WorkerCounters.MAX_BATCH),
                    batchSizes[w.index()].copy(), w.counter(WorkerCounters.PUBLISHES_SENT),
                    w.counter(WorkerCounters.PARKS), w.wakes(), w.counter(WorkerCounters.COMPLETED),
                    w.counter(WorkerCounters.FAILED), w.counter(WorkerCounters.LOCAL_SUBMITS),
                    w.counter(WorkerCounters.LOCAL_RESUMES), w.counter(WorkerCounters.CANCELLED),
                    w.contextPoolStats(), w.chunkPoolStats()));
            }
            return new MetricsSnapshot(gate.inFlight(), gate.max(), rejectedOverloaded.get(), rejectedNotRunning.get(),
                endToEnd.copy(), List.copyOf(stageMetrics), List.copyOf(workerMetrics), failure.get());
        }
    }
}
