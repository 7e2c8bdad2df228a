package io.millrace.log;

/**
 * How a {@link GroupCommit} is sized. Start from {@link #defaults(int)}.
 *
 * @param workers           the pipeline's worker count: one committer per worker
 * @param forceMode         where forces run, see {@link ForceMode}
 * @param maxAppendsPerTurn appends one worker gathers before it writes (a fuller turn is written early)
 * @param stagingBytes      bytes of payload one worker stages per turn (a direct buffer each); a record
 *                          larger than this is written at once from the caller's buffer
 * @param maxLogsPerTurn    distinct logs one worker appends to in a turn before it writes early
 * @param maxAwaitingSync   per worker, appends that may wait for the sync thread at once
 *                          ({@link ForceMode#SYNC_THREAD} only); beyond it the worker waits for a force to end
 */
public record GroupCommitOptions(int workers, ForceMode forceMode, int maxAppendsPerTurn, int stagingBytes,
                                 int maxLogsPerTurn, int maxAwaitingSync)
{
    /** Checks every field. */
    public GroupCommitOptions
    {
        java.util.Objects.requireNonNull(forceMode, "forceMode");
        if (workers < 1 || maxAppendsPerTurn < 1 || stagingBytes < 1 || maxLogsPerTurn < 1 || maxAwaitingSync < 1)
        {
            throw new IllegalArgumentException("every GroupCommitOptions size must be at least 1: workers=" + workers
                + ", maxAppendsPerTurn=" + maxAppendsPerTurn + ", stagingBytes=" + stagingBytes + ", maxLogsPerTurn="
                + maxLogsPerTurn + ", maxAwaitingSync=" + maxAwaitingSync);
        }
    }

    /**
     * Forces on the worker ({@link ForceMode#WORKER}: the most durable appends per second, see
     * {@code docs/log.md}); per worker 4,096 appends and 1 MiB of payload per turn, 64 logs per
     * turn, 16,384 appends awaiting the sync thread.
     *
     * @param workers the pipeline's worker count
     * @return the defaults
     */
    public static GroupCommitOptions defaults(final int workers)
    {
        return new GroupCommitOptions(workers, ForceMode.WORKER, 4096, 1 << 20, 64, 16384);
    }

    /** @return a copy with another force mode */
    public GroupCommitOptions withForceMode(final ForceMode v)
    {
        return new GroupCommitOptions(workers, v, maxAppendsPerTurn, stagingBytes, maxLogsPerTurn, maxAwaitingSync);
    }

    /** @return a copy with another per-turn append bound */
    public GroupCommitOptions withMaxAppendsPerTurn(final int v)
    {
        return new GroupCommitOptions(workers, forceMode, v, stagingBytes, maxLogsPerTurn, maxAwaitingSync);
    }

    /** @return a copy with another staging size */
    public GroupCommitOptions withStagingBytes(final int v)
    {
        return new GroupCommitOptions(workers, forceMode, maxAppendsPerTurn, v, maxLogsPerTurn, maxAwaitingSync);
    }

    /** @return a copy with another per-turn log bound */
    public GroupCommitOptions withMaxLogsPerTurn(final int v)
    {
        return new GroupCommitOptions(workers, forceMode, maxAppendsPerTurn, stagingBytes, v, maxAwaitingSync);
    }

    /** @return a copy with another bound on appends awaiting the sync thread */
    public GroupCommitOptions withMaxAwaitingSync(final int v)
    {
        return new GroupCommitOptions(workers, forceMode, maxAppendsPerTurn, stagingBytes, maxLogsPerTurn, v);
    }
}
