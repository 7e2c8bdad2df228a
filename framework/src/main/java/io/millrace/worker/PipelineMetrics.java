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
 * be taken from any thread; {@link #snapshotLock} serialises snapshots because each drains the
 * threads' interval recorders into the cumulative histograms here, which only it touches.
 *
 * @param <R> the request type
 */
final class PipelineMetrics<R>
{
    private final StageDef<R>[] stages;
    private final Worker<R>[] workers;
    private final BlockingStagePool<R>[] pools;
    private final InFlightGate gate;
    private final AtomicLong rejectedOverloaded = new AtomicLong();
    private final AtomicLong rejectedNotRunning = new AtomicLong();

    private final Object snapshotLock = new Object();
    private final Histogram[] serviceTimes;
    private final Histogram[] batchSizes;

    /**
     * @param stages   compiled stages, by index
     * @param workers  the workers, by index
     * @param pools    blocking pools by stage index, null for other stages
     * @param gate     the in-flight gate
     * @param ringSize slots per inbox ring, the largest possible batch
     */
    PipelineMetrics(final StageDef<R>[] stages, final Worker<R>[] workers, final BlockingStagePool<R>[] pools,
        final InFlightGate gate, final int ringSize)
    {
        this.stages = stages;
        this.workers = workers;
        this.pools = pools;
        this.gate = gate;
        this.serviceTimes = new Histogram[stages.length];
        for (final StageDef<R> stage : stages)
        {
            serviceTimes[stage.index] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
        }
        this.batchSizes = new Histogram[workers.length];
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
     * @return a snapshot of every counter; allocation on the caller only
     */
    MetricsSnapshot snapshot()
    {
        synchronized (snapshotLock)
        {
            final List<StageMetrics> stageMetrics = new ArrayList<>(stages.length);
            for (final StageDef<R> stage : stages)
            {
                final int s = stage.index;
                long count = 0;
                long errors = 0;
                for (final Lane lane : lanes())
                {
                    count += lane.count(s);
                    errors += lane.errors(s);
                    lane.drainServiceTimes(s, serviceTimes[s]);
                }
                stageMetrics.add(new StageMetrics(stage.name, stage.placementText, stage.partitions(), count, errors,
                    serviceTimes[s].copy()));
            }
            final List<WorkerMetrics> workerMetrics = new ArrayList<>(workers.length);
            for (final Worker<R> w : workers)
            {
                w.drainBatchSizes(batchSizes[w.index()]);
                workerMetrics.add(new WorkerMetrics(w.index(), w.thread().getName(), w.ringDepth(), w.ringCapacity(),
                    w.counter(WorkerCounters.RECEIVED), w.counter(WorkerCounters.SUBMITS_RECEIVED),
                    w.counter(WorkerCounters.BATCHES), w.counter(WorkerCounters.MAX_BATCH),
                    batchSizes[w.index()].copy(), w.counter(WorkerCounters.PUBLISHES_SENT),
                    w.counter(WorkerCounters.PARKS), w.wakes(), w.counter(WorkerCounters.COMPLETED),
                    w.counter(WorkerCounters.FAILED), w.contextPoolStats(), w.chunkPoolStats()));
            }
            return new MetricsSnapshot(gate.inFlight(), gate.max(), rejectedOverloaded.get(), rejectedNotRunning.get(),
                List.copyOf(stageMetrics), List.copyOf(workerMetrics));
        }
    }

    private List<Lane> lanes()
    {
        final List<Lane> lanes = new ArrayList<>();
        for (final Worker<R> worker : workers)
        {
            lanes.add(worker.lane());
        }
        for (final BlockingStagePool<R> pool : pools)
        {
            if (pool != null)
            {
                lanes.addAll(List.of(pool.lanes()));
            }
        }
        return lanes;
    }
}
