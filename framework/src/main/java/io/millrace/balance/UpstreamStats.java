package io.millrace.balance;

/**
 * One upstream's figures, merged over all workers at the moment of the call (for a {@code /stats}
 * table or metrics). Counters are each read without locks, so two of them may disagree by the
 * requests that moved while they were read.
 *
 * @param name               the upstream's name
 * @param state              its state now
 * @param weight             configured weight
 * @param effectiveWeight    weight with the slow-start ramp applied, as a share of 1000 of {@code weight}
 * @param backup             a backup server
 * @param zone               zone label, or null
 * @param active             requests in flight
 * @param requests           requests started
 * @param successes          attempts that ended {@link CallOutcome#SUCCESS}
 * @param failures           attempts that ended {@link CallOutcome#FAILURE}
 * @param ejections          passive ejections so far
 * @param refusedEjections   ejections not made because of the group's max-ejection-percent
 * @param latencyNanos       the decaying average latency of successful attempts (0 before any)
 * @param meanLatencyNanos   the plain mean latency of successful attempts (0 before any)
 * @param connections        open connections reported by the transport
 * @param pending            requests waiting for a connection
 */
public record UpstreamStats(String name, UpstreamState state, int weight, int effectiveWeight, boolean backup, String zone,
    long active, long requests, long successes, long failures, long ejections, long refusedEjections, long latencyNanos,
    long meanLatencyNanos, long connections, long pending)
{
}
