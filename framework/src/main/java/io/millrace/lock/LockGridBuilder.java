package io.millrace.lock;

import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Defines a {@link LockGrid}: its rows (stages, in the global lock order) and its column count (data
 * sets). Not thread-safe; build once, before the pipeline starts, and share the grid with the
 * handlers.
 *
 * <pre>{@code
 * LockGrid grid = LockGrid.builder().name("orders").rows(reserve, post).columns(64).build();
 * }</pre>
 */
public final class LockGridBuilder
{
    /** Default number of columns (data sets per stage). */
    public static final int DEFAULT_COLUMNS = 64;
    /** Most cells (rows x columns) a grid may have: each is a padded object of about 200 bytes. */
    public static final int MAX_CELLS = 1 << 16;

    private String name = "lock-grid";
    private final List<StageRef<?>> rows = new ArrayList<>();
    private int columns = DEFAULT_COLUMNS;

    LockGridBuilder()
    {
    }

    /**
     * @param gridName name shown in reports and error messages
     * @return this builder
     */
    public LockGridBuilder name(final String gridName)
    {
        this.name = Objects.requireNonNull(gridName, "name");
        return this;
    }

    /**
     * Sets the rows. Their order is the global lock order across stages: list them in the order
     * requests pass through them, so that a request holding a cell of one row only ever waits for
     * cells of later rows.
     *
     * @param stages inline or partitioned stages of one pipeline, each once
     * @return this builder
     * @throws IllegalArgumentException for a blocking stage (its requests cannot park) or a repeated stage
     */
    public LockGridBuilder rows(final StageRef<?>... stages)
    {
        Objects.requireNonNull(stages, "stages");
        final Set<Integer> indexes = new HashSet<>();
        for (final StageRef<?> stage : stages)
        {
            Objects.requireNonNull(stage, "rows(...) contains null");
            if (stage.placement() instanceof Placement.Blocking)
            {
                throw new IllegalArgumentException(stage + " cannot be a lock-grid row: a request in a blocking stage " +
                    "cannot park; take the cell in the inline stage before it and release it after");
            }
            if (!indexes.add(stage.index()))
            {
                throw new IllegalArgumentException(stage + " is listed twice, or with a stage of another pipeline " +
                    "at the same index: give each row once, all from one pipeline builder");
            }
        }
        rows.clear();
        rows.addAll(List.of(stages));
        return this;
    }

    /**
     * @param count data sets per stage, at least 1; 1 makes each row a single lock
     * @return this builder
     */
    public LockGridBuilder columns(final int count)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("columns must be at least 1, was " + count);
        }
        this.columns = count;
        return this;
    }

    /**
     * @return the grid
     * @throws IllegalStateException without rows, or with more than {@value #MAX_CELLS} cells
     */
    public LockGrid build()
    {
        if (rows.isEmpty())
        {
            throw new IllegalStateException("lock grid '" + name + "' has no rows: call rows(stage, ...) with the " +
                "stages that take cells");
        }
        if ((long)rows.size() * columns > MAX_CELLS)
        {
            throw new IllegalStateException("lock grid '" + name + "' would have " + (long)rows.size() * columns +
                " cells, more than " + MAX_CELLS + ": use fewer columns");
        }
        return new LockGrid(name, rows, columns);
    }
}
