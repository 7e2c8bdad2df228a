package io.millrace.lock;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Locks laid out as a grid: rows are stages, columns are data sets. Two requests contend only if they
 * need the same data set in the same stage, the grid's one rule (docs/lock-grid.md).
 * A key maps to a column by hash ({@link #columnOf(long)}); the column count is set on the builder.
 *
 * <pre>{@code
 * LockGrid grid = LockGrid.builder().name("orders").rows(reserve, post).columns(64).build();
 *
 * b.handle(post, (order, ctx) ->
 * {
 *     if (!grid.acquire(ctx, order.account))
 *     {
 *         return Outcome.blocked();          // parked on the cell; this stage runs again when it is ours
 *     }
 *     ledger.post(order);                    // critical section for (post, account's data set)
 *     grid.release(ctx, order.account);
 *     return Outcome.next(reply);
 * });
 * }</pre>
 *
 * <p><b>Parking, not blocking.</b> {@code acquire} never blocks the thread. A free cell is taken at
 * once (one CAS, no allocation). A held cell parks the request: {@code acquire} calls
 * {@link StageContext#suspend()}, queues the suspension on the cell and returns {@code false}; the
 * stage must then return {@link Outcome#blocked()} at once, and the worker goes on with other
 * requests. When the owner releases, the cell is handed straight to the oldest waiter (first come,
 * first served) and that request is resumed at the same stage: through its home worker's inbox, or,
 * if it lives on the releasing worker, as soon as the releasing dispatch returns. The
 * stage runs again from the top, so keep what precedes {@code acquire} free of side effects; this time
 * {@code acquire} finds the request already owns the cell and returns {@code true}.
 *
 * <p><b>When not to use a cell.</b> A hand-over between requests costs a suspension, a resume and,
 * when the next waiter lives on another worker, a trip through that worker's inbox. Around a few
 * nanoseconds of work that every worker needs (a counter, a field) the cell becomes a convoy: every
 * newcomer queues, and requests wait milliseconds for a nanosecond of work. Use an atomic or a
 * partitioned stage there; {@link ContentionReport#convoys()} names such cells.
 *
 * <p><b>Several cells.</b> {@link #acquireAll} takes the cells of several keys in one global order,
 * ascending column, keeping those already taken while it waits for the next: no two requests can wait
 * for each other in a cycle. Across stages the order is the row order given to the builder: while
 * holding cells of a row, take cells only of later rows. Calls of {@link #acquire} for two keys in one
 * stage must go in ascending {@link #columnOf(long)}; {@code acquireAll} does that for you. A cell may
 * be held across stages (take it in one, give it back in a later one with
 * {@link #release(StageContext, StageRef, long)}).
 *
 * <p><b>Forgotten cells.</b> Each held cell (and each parked request) is registered with the request
 * ({@link StageContext#hold}). A request that completes while holding a cell has it released for it by
 * the runtime, which counts and logs the misuse against the completing stage; the grid counts it too
 * ({@link CellStats#abandoned()}). A held cell and a parked request each take one of the request's
 * {@value StageContext#MAX_HELD} hold slots.
 *
 * <p><b>Statistics.</b> Every cell counts acquisitions, contended acquisitions (the request had to
 * park) and wait time (HdrHistogram, parked to taken over). {@link #report()} snapshots them as a
 * {@link ContentionReport}: a text table and, through {@link HeatMap}, a stages x data sets heat map.
 * Start coarse, read the map, re-cut stages or data sets, and measure again.
 *
 * <p>Threading: {@code acquire}, {@code acquireAll} run in a worker stage (inline or partitioned) on
 * the thread that dispatches it; {@code release} may run in any stage, blocking ones included. A stage
 * that is a row may not be a blocking stage (its requests could not park). {@link #report()} may be
 * called from any thread. The grid itself is immutable after construction; the per-cell protocol is
 * described on {@code Cell}. Memory: a padded cell per row and column (about 200 bytes), a waiter
 * per parked request (reused per thread, so none is allocated in steady state) and the small
 * {@link io.millrace.stage.Suspension} handle of each park (one allocation per contended acquisition); waiter queues are
 * bounded by the pipeline's in-flight bound, since each waiter is a parked in-flight request.
 */
public final class LockGrid
{
    private final String name;
    private final StageRef<?>[] rows;
    private final String[] rowNames;
    private final int[] rowByStageIndex;
    private final int columns;
    private final Cell[] cells;
    private final ThreadLocal<Waiter.Cache> waiters = ThreadLocal.withInitial(Waiter.Cache::new);

    private final Object reportLock = new Object();
    private final Histogram[] intervalWaits;
    private final Histogram[] totalWaits;

    LockGrid(final String name, final List<StageRef<?>> rowStages, final int columns)
    {
        this.name = name;
        this.rows = rowStages.toArray(new StageRef<?>[0]);
        this.rowNames = new String[rows.length];
        int maxIndex = 0;
        for (int r = 0; r < rows.length; r++)
        {
            rowNames[r] = rows[r].name();
            maxIndex = Math.max(maxIndex, rows[r].index());
        }
        this.rowByStageIndex = new int[maxIndex + 1];
        Arrays.fill(rowByStageIndex, -1);
        for (int r = 0; r < rows.length; r++)
        {
            rowByStageIndex[rows[r].index()] = r;
        }
        this.columns = columns;
        this.cells = new Cell[rows.length * columns];
        for (int r = 0; r < rows.length; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                cells[r * columns + c] = new Cell(this, r, c);
            }
        }
        this.intervalWaits = new Histogram[cells.length];
        this.totalWaits = new Histogram[cells.length];
    }

    /**
     * @return a builder; rows are required, columns default to {@value LockGridBuilder#DEFAULT_COLUMNS}
     */
    public static LockGridBuilder builder()
    {
        return new LockGridBuilder();
    }

    /**
     * Takes the cell of {@code key} in the row of the stage being dispatched, or parks the request on
     * it. Allocation free when the cell is free; returns {@code true} at once if the request already
     * owns the cell (as it does when its stage runs again after waiting).
     *
     * @param ctx the dispatching stage's context
     * @param key the data set key; equal keys always meet in one cell, different keys may share one
     * @return {@code true}: the request holds the cell, go on. {@code false}: the request is parked;
     *         return {@link Outcome#blocked()} at once
     * @throws IllegalArgumentException if the current stage is not a row of this grid
     * @throws IllegalStateException    if the request already holds {@value StageContext#MAX_HELD}
     *                                  resources
     */
    public boolean acquire(final StageContext ctx, final long key)
    {
        return cells[rowOf(ctx.stage()) * columns + columnOf(key)].acquire(ctx);
    }

    /**
     * Takes the cells of all {@code keys} in the current stage's row, in ascending column order, keeping
     * those taken while it parks on the first busy one. Keys that share a column take it once. Call it
     * again with the same keys when the stage runs again. Passing a preallocated array avoids the
     * varargs allocation.
     *
     * @param ctx  the dispatching stage's context
     * @param keys the data set keys
     * @return {@code true} when the request holds every cell; {@code false}: parked, return
     *         {@link Outcome#blocked()} at once
     * @throws IllegalArgumentException if the current stage is not a row of this grid
     */
    public boolean acquireAll(final StageContext ctx, final long... keys)
    {
        final int base = rowOf(ctx.stage()) * columns;
        int column = -1;
        while ((column = nextColumn(keys, column)) >= 0)
        {
            if (!cells[base + column].acquire(ctx))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Gives back the cell of {@code key} in the current stage's row and hands it to the oldest waiter.
     *
     * @param ctx the dispatching stage's context
     * @param key the key it was acquired with
     * @throws IllegalStateException if the request does not hold that cell
     */
    public void release(final StageContext ctx, final long key)
    {
        release(ctx, ctx.stage(), key);
    }

    /**
     * Gives back the cell of {@code key} in {@code row}: for a cell taken in an earlier stage.
     *
     * @param ctx the dispatching stage's context
     * @param row the stage that acquired the cell
     * @param key the key it was acquired with
     * @throws IllegalArgumentException if {@code row} is not a row of this grid
     * @throws IllegalStateException    if the request does not hold that cell
     */
    public void release(final StageContext ctx, final StageRef<?> row, final long key)
    {
        cells[rowOf(row) * columns + columnOf(key)].release(ctx);
    }

    /**
     * Gives back the cells of all {@code keys} in the current stage's row.
     *
     * @param ctx  the dispatching stage's context
     * @param keys the keys they were acquired with
     * @throws IllegalStateException if the request does not hold one of them; then none is released
     */
    public void releaseAll(final StageContext ctx, final long... keys)
    {
        releaseAll(ctx, ctx.stage(), keys);
    }

    /**
     * Gives back the cells of all {@code keys} in {@code row}.
     *
     * @param ctx  the dispatching stage's context
     * @param row  the stage that acquired them
     * @param keys the keys they were acquired with
     * @throws IllegalArgumentException if {@code row} is not a row of this grid
     * @throws IllegalStateException    if the request does not hold one of them; then none is released
     */
    public void releaseAll(final StageContext ctx, final StageRef<?> row, final long... keys)
    {
        final int base = rowOf(row) * columns;
        int column = -1;
        while ((column = nextColumn(keys, column)) >= 0)
        {
            final Cell cell = cells[base + column];
            if (cell.owner != ctx)
            {
                cell.release(ctx); // throws, naming the cell, before anything was released
            }
        }
        column = -1;
        while ((column = nextColumn(keys, column)) >= 0)
        {
            cells[base + column].release(ctx);
        }
    }

    /**
     * The column (data set) of a key: a 64-bit mix of the key mapped onto {@code [0, columns)}
     * without division. Stable for the grid's lifetime.
     *
     * @param key a data set key
     * @return its column, from 0
     */
    public int columnOf(final long key)
    {
        return (int)(((mix(key) >>> 32) * columns) >>> 32);
    }

    /**
     * @return the grid's name, used in reports and error messages
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the row (stage) names, in the global lock order
     */
    public List<String> rows()
    {
        return List.of(rowNames);
    }

    /**
     * @return the number of columns (data sets)
     */
    public int columns()
    {
        return columns;
    }

    /**
     * Snapshots every cell's counters and wait times. Safe from any thread; allocates on the caller
     * only; counters are read one by one while requests go on, so totals may be a few requests apart.
     *
     * @return cumulative statistics since the grid was built; use {@link ContentionReport#since} for
     *         an interval
     */
    public ContentionReport report()
    {
        synchronized (reportLock)
        {
            final List<CellStats> stats = new ArrayList<>(cells.length);
            for (int i = 0; i < cells.length; i++)
            {
                final Cell cell = cells[i];
                final SingleWriterRecorder recorder = cell.waitRecorder();
                if (recorder != null)
                {
                    intervalWaits[i] = recorder.getIntervalHistogram(intervalWaits[i]);
                    if (totalWaits[i] == null)
                    {
                        totalWaits[i] = new PackedHistogram(2);
                    }
                    totalWaits[i].add(intervalWaits[i]);
                }
                final long contended = cell.contendedCount();
                final long acquisitions = cell.uncontendedCount() + contended;
                final Histogram waits = totalWaits[i] == null ? new PackedHistogram(2) : totalWaits[i].copy();
                // Two opaque reads of counters the owner bumps together: they may be a hold apart,
                // which a mean over at least a hundred holds does not notice.
                stats.add(new CellStats(rowNames[cell.row()], cell.row(), cell.column(), acquisitions, contended,
                    cell.abandonedCount(), waits, cell.holdSampleCount(), cell.holdNanosTotal()));
            }
            return new ContentionReport(name, List.of(rowNames), columns, stats);
        }
    }

    @Override
    public String toString()
    {
        return "lock grid '" + name + "' (" + rows.length + " stages x " + columns + " data sets)";
    }

    // ---------------------------------------------------------------- internals

    private int rowOf(final StageRef<?> stage)
    {
        final int index = stage.index();
        if (index >= 0 && index < rowByStageIndex.length)
        {
            final int row = rowByStageIndex[index];
            if (row >= 0 && rows[row] == stage)
            {
                return row;
            }
        }
        throw new IllegalArgumentException(stage + " is not a row of lock grid '" + name +
            "': list it in LockGrid.builder().rows(...), or release with the stage that acquired the cell");
    }

    /** Smallest column of {@code keys} greater than {@code after}, or -1: an allocation-free sort. */
    private int nextColumn(final long[] keys, final int after)
    {
        int best = Integer.MAX_VALUE;
        for (final long key : keys)
        {
            final int column = columnOf(key);
            if (column > after && column < best)
            {
                best = column;
            }
        }
        return best == Integer.MAX_VALUE ? -1 : best;
    }

    /**
     * SplitMix64: the key's place in a golden-ratio sequence, then the generator's finalizer. The
     * finalizer alone leaves keys with few bits set (such as {@code 1L << 40}) in the low columns; the
     * multiplication first spreads them, so sequential, sparse and clustered keys all spread evenly.
     */
    private static long mix(final long key)
    {
        long z = (key + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    String rowName(final int row)
    {
        return rowNames[row];
    }

    Waiter takeWaiter()
    {
        return waiters.get().take();
    }

    void recycleWaiter(final Waiter w)
    {
        waiters.get().give(w);
    }
}
