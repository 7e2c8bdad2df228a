package io.millrace.metrics;

import io.millrace.memory.PoolStats;

import org.HdrHistogram.Histogram;

/**
 * One worker's counters.
 *
 * @param index             worker index, from 0
 * @param threadName        the worker thread's name
 * @param ringDepth         events published into the inbox and not yet consumed, at snapshot time
 * @param ringCapacity      slots in the inbox ring
 * @param publishesReceived events consumed from the inbox: submissions, hops and resumes
 * @param submitsReceived   of those, new requests from {@code Pipeline.submit}
 * @param batches           non-empty polls of the inbox
 * @param maxBatch          largest batch seen
 * @param batchSizes        distribution of batch sizes since start (a copy the caller owns)
 * @param publishesSent     publishes this worker made into rings: hops to partition owners and resumes
 * @param parks             empty turns on which the worker announced parking and idled
 * @param wakes             times a producer unparked this worker after it announced parking
 * @param completed         requests completed successfully on this worker
 * @param failed            requests completed with an error on this worker
 * @param localSubmits      submits made on this worker's own thread, run with no ring publish
 * @param localResumes      resumes made on this worker's own thread, likewise
 * @param cancelled         requests completed with a cancellation or deadline error
 * @param contextPool       the worker's request-context lookaside pool (hits, misses, cross-thread returns, live)
 * @param bufferChunks      the chunk pool of the worker's buffer allocator; all zero without {@code PipelineBuilder.memory}
 */
public record WorkerMetrics(
    int index,
    String threadName,
    long ringDepth,
    int ringCapacity,
    long publishesReceived,
    long submitsReceived,
    long batches,
    long maxBatch,
    Histogram batchSizes,
    long publishesSent,
    long parks,
    long wakes,
    long completed,
    long failed,
    long localSubmits,
    long localResumes,
    long cancelled,
    PoolStats contextPool,
    PoolStats bufferChunks)
{
    /**
     * @return mean events per non-empty poll, 0 before the first
     */
    public double meanBatch()
    {
        return batches == 0 ? 0 : (double)publishesReceived / batches;
    }
}
