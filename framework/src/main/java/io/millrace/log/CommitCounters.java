package io.millrace.log;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of a {@link GroupCommit}: one padded row per worker plus one for the sync thread. Each row
 * has a single writer, which updates it with plain reads and release writes (no atomic
 * read-modify-write); readers sum the rows with volatile reads, so a snapshot is not atomic across
 * counters but every counter is exact once its writer is idle.
 */
final class CommitCounters
{
    private static final int APPENDS = 0;
    private static final int FAILED = 1;
    private static final int TURNS = 2;
    private static final int FORCES = 3;
    private static final int LARGEST = 4;
    private static final int SYNC_WAITS = 5;
    private static final int LISTENER_ERRORS = 6;
    private static final int WITHDRAWN = 7;
    private static final int STRIDE = 16; // 128 bytes per row: no false sharing between writers

    private final AtomicLongArray cells;
    private final int rows;

    CommitCounters(final int workers)
    {
        this.rows = workers + 1;
        this.cells = new AtomicLongArray(rows * STRIDE);
    }

    /** @return the row of the sync thread */
    int syncRow()
    {
        return rows - 1;
    }

    private void add(final int row, final int counter, final long delta)
    {
        final int i = row * STRIDE + counter;
        cells.setRelease(i, cells.getPlain(i) + delta);
    }

    void turnCommitted(final int row, final int appends)
    {
        add(row, TURNS, 1);
    }

    void forced(final int row)
    {
        add(row, FORCES, 1);
    }

    void batch(final int row, final int appends)
    {
        final int i = row * STRIDE + LARGEST;
        if (appends > cells.getPlain(i))
        {
            cells.setRelease(i, appends);
        }
    }

    void acknowledged(final int row, final boolean failed)
    {
        add(row, APPENDS, 1);
        if (failed)
        {
            add(row, FAILED, 1);
        }
    }

    void waitedForSync(final int row)
    {
        add(row, SYNC_WAITS, 1);
    }

    void listenerThrew(final int row)
    {
        add(row, LISTENER_ERRORS, 1);
    }

    void withdrawn(final int row)
    {
        add(row, WITHDRAWN, 1);
    }

    GroupCommitStats snapshot()
    {
        final long[] sum = new long[8];
        long largest = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < 8; c++)
            {
                final long v = cells.get(r * STRIDE + c);
                if (c == LARGEST)
                {
                    largest = Math.max(largest, v);
                }
                else
                {
                    sum[c] += v;
                }
            }
        }
        return new GroupCommitStats(sum[APPENDS], sum[FAILED], sum[TURNS], sum[FORCES], largest, sum[SYNC_WAITS],
            sum[LISTENER_ERRORS], sum[WITHDRAWN]);
    }
}
