package io.millrace.log;

/**
 * Counters of a {@link GroupCommit}, summed over its workers and its sync thread.
 *
 * @param appends         appends acknowledged (successfully or not)
 * @param failed          appends acknowledged with an error
 * @param turns           worker turns that wrote at least one record (one gathering write per log each)
 * @param forces          forces ({@code fdatasync}) run, by workers or the sync thread
 * @param largestBatch    most appends one force acknowledged
 * @param syncWaits       times a worker had to wait for the sync thread to hand entries back
 * @param listenerErrors  listeners that threw (counted; the request was resumed anyway)
 * @param withdrawn       requests cancelled while their append was pending (written, not resumed)
 */
public record GroupCommitStats(long appends, long failed, long turns, long forces, long largestBatch, long syncWaits,
                               long listenerErrors, long withdrawn)
{
    /** @return appends per force: how much group commit saved ({@code appends} when nothing was forced) */
    public double appendsPerForce()
    {
        return forces == 0 ? appends : (double)appends / forces;
    }
}
