package io.millrace.demo.stats;

/**
 * One interval of the stats history: what happened between two metrics snapshots a sampling period
 * apart. Arrays are indexed like the pipeline's stages, workers and pools (in snapshot order), and
 * are this sample's own.
 *
 * @param atMillis       wall-clock time of the later snapshot, epoch milliseconds
 * @param seconds        length of the interval
 * @param completed      requests completed per second (successful or not)
 * @param endToEndP99    99th percentile of end-to-end latency in the interval, ns; 0 if none completed
 * @param stageRequests  requests per second through each stage
 * @param stageP99       99th percentile of each stage's service time in the interval, ns; 0 if idle
 * @param ringDepth      each worker's inbox depth when the snapshot was taken
 * @param poolHits       each pool's cumulative hits at the snapshot (workers' context pools and
 *                       buffer-chunk pools, worker by worker)
 * @param poolMisses     each pool's cumulative misses at the snapshot
 */
public record StatsSample(long atMillis, double seconds, double completed, long endToEndP99, double[] stageRequests,
    long[] stageP99, long[] ringDepth, long[] poolHits, long[] poolMisses)
{
}
