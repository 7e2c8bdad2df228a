package io.millrace.lock;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A snapshot of a {@link LockGrid}'s contention: per cell acquisitions, contended acquisitions,
 * abandoned holds and wait times; totals per stage and for the grid; and a text table whose last
 * column is a one-line heat map per stage. {@link HeatMap} draws the same data as an SVG.
 *
 * <p>Immutable and safe to share between threads. Reports are cumulative since the grid was built;
 * {@link #since(ContentionReport)} gives the interval between two of them.
 */
public final class ContentionReport
{
    /** Most characters in a row of the text map; wider grids fold several columns into one character. */
    private static final int MAP_WIDTH = 128;

    private final String grid;
    private final List<String> rows;
    private final int columns;
    private final List<CellStats> cells;

    ContentionReport(final String grid, final List<String> rows, final int columns, final List<CellStats> cells)
    {
        this.grid = grid;
        this.rows = List.copyOf(rows);
        this.columns = columns;
        this.cells = List.copyOf(cells);
    }

    /**
     * @return the grid's name
     */
    public String grid()
    {
        return grid;
    }

    /**
     * @return stage names, one per row, in lock order
     */
    public List<String> rows()
    {
        return rows;
    }

    /**
     * @return number of columns (data sets)
     */
    public int columns()
    {
        return columns;
    }

    /**
     * @return every cell, row by row
     */
    public List<CellStats> cells()
    {
        return cells;
    }

    /**
     * @param row    row index
     * @param column column index
     * @return that cell's statistics
     */
    public CellStats cell(final int row, final int column)
    {
        if (row < 0 || row >= rows.size() || column < 0 || column >= columns)
        {
            throw new IndexOutOfBoundsException("cell (" + row + ", " + column + ") outside a grid of " + rows.size() +
                " rows and " + columns + " columns");
        }
        return cells.get(row * columns + column);
    }

    /**
     * @param row row index
     * @return the row's totals, with column -1 and the merged wait times
     */
    public CellStats row(final int row)
    {
        return total(rows.get(row), row, cells.subList(row * columns, (row + 1) * columns));
    }

    /**
     * @return acquisitions of every cell
     */
    public long acquisitions()
    {
        return cells.stream().mapToLong(CellStats::acquisitions).sum();
    }

    /**
     * @return contended acquisitions of every cell
     */
    public long contended()
    {
        return cells.stream().mapToLong(CellStats::contended).sum();
    }

    /**
     * @return abandoned holds and waits of every cell
     */
    public long abandoned()
    {
        return cells.stream().mapToLong(CellStats::abandoned).sum();
    }

    /**
     * @return contended / acquisitions over the whole grid, from 0 to 1
     */
    public double contentionRate()
    {
        final long acquisitions = acquisitions();
        return acquisitions == 0 ? 0 : (double)contended() / acquisitions;
    }

    /**
     * @param n how many
     * @return up to {@code n} cells with contended acquisitions, most contended first
     */
    public List<CellStats> hottest(final int n)
    {
        return cells.stream().filter(c -> c.contended() > 0)
            .sorted(Comparator.comparingLong(CellStats::contended).reversed()
                .thenComparing(Comparator.comparingLong(CellStats::acquisitions).reversed()))
            .limit(Math.max(0, n)).toList();
    }

    /**
     * Cells whose wait dwarfs their hold ({@link CellStats#waitDwarfsHold()}): requests queue far
     * longer for them than anyone holds them, so the cell costs more than the work it guards.
     *
     * @return those cells, the worst (highest wait-to-hold ratio) first
     */
    public List<CellStats> convoys()
    {
        return cells.stream().filter(CellStats::waitDwarfsHold)
            .sorted(Comparator.comparingDouble(CellStats::waitToHold).reversed()).toList();
    }

    /**
     * The interval between an earlier report of the same grid and this one.
     *
     * @param earlier a report taken before this one
     * @return counts and wait times recorded in between
     * @throws IllegalArgumentException if {@code earlier} is of another grid or shape
     */
    public ContentionReport since(final ContentionReport earlier)
    {
        if (!grid.equals(earlier.grid) || !rows.equals(earlier.rows) || columns != earlier.columns)
        {
            throw new IllegalArgumentException("since(...) needs an earlier report of lock grid '" + grid + "', got one of '" +
                earlier.grid + "'");
        }
        final List<CellStats> diff = new ArrayList<>(cells.size());
        for (int i = 0; i < cells.size(); i++)
        {
            final CellStats now = cells.get(i);
            final CellStats then = earlier.cells.get(i);
            final Histogram waits = now.waitTimes().copy();
            if (then.waitTimes().getTotalCount() > 0)
            {
                waits.subtract(then.waitTimes());
            }
            diff.add(new CellStats(now.stage(), now.row(), now.column(), now.acquisitions() - then.acquisitions(),
                now.contended() - then.contended(), now.abandoned() - then.abandoned(), waits,
                now.holdSamples() - then.holdSamples(), now.holdNanos() - then.holdNanos()));
        }
        return new ContentionReport(grid, rows, columns, diff);
    }

    /**
     * @return {@link #table(int)} with the ten hottest cells
     */
    public String table()
    {
        return table(10);
    }

    /**
     * The report as text: a summary line, one line per stage with its totals and a map of its data
     * sets (one character each: {@code ' '} unused, {@code '.'} never contended, {@code 0}-{@code 9}
     * contention rate in tens of percent), then the hottest cells, then the convoys (cells whose mean
     * wait is more than {@value CellStats#CONVOY_WAIT_TO_HOLD} times their mean hold) with what to do
     * about them.
     *
     * @param hottestCells how many of the most contended cells to list
     * @return the table, lines ending in {@code '\n'}
     */
    public String table(final int hottestCells)
    {
        final StringBuilder out = new StringBuilder(256 + rows.size() * (MAP_WIDTH + 100));
        out.append(String.format(Locale.ROOT, "lock grid '%s': %d stages x %d data sets; %,d acquisitions, %,d contended (%s), %,d abandoned%n",
            grid, rows.size(), columns, acquisitions(), contended(), percent(contentionRate()), abandoned()));
        final int width = Math.max(5, rows.stream().mapToInt(String::length).max().orElse(5));
        final int fold = (columns + MAP_WIDTH - 1) / MAP_WIDTH;
        out.append(String.format(Locale.ROOT, "%-" + width + "s %13s %12s %7s %10s %10s %10s  %s%n", "stage", "acquisitions",
            "contended", "rate", "wait p50", "wait p99", "wait max",
            "data sets (' ' unused, '.' never contended, 0-9 contention rate in tens of %" +
                (fold > 1 ? ", " + fold + " data sets per character" : "") + ")"));
        for (int r = 0; r < rows.size(); r++)
        {
            final CellStats total = row(r);
            out.append(String.format(Locale.ROOT, "%-" + width + "s %,13d %,12d %7s %10s %10s %10s  |%s|%n", rows.get(r),
                total.acquisitions(), total.contended(), percent(total.contentionRate()), nanos(total.waitAtPercentile(50)),
                nanos(total.waitAtPercentile(99)), nanos(total.maxWait()), map(r, fold)));
        }
        final List<CellStats> hot = hottest(hottestCells);
        if (!hot.isEmpty())
        {
            out.append(String.format(Locale.ROOT, "hottest cells%n"));
            out.append(String.format(Locale.ROOT, "%-" + width + "s %8s %13s %12s %7s %10s %10s %10s %9s%n", "stage", "data set",
                "acquisitions", "contended", "rate", "wait p50", "wait p99", "wait max", "abandoned"));
            for (final CellStats c : hot)
            {
                out.append(String.format(Locale.ROOT, "%-" + width + "s %8d %,13d %,12d %7s %10s %10s %10s %,9d%n", c.stage(),
                    c.column(), c.acquisitions(), c.contended(), percent(c.contentionRate()),
                    nanos(c.waitAtPercentile(50)), nanos(c.waitAtPercentile(99)), nanos(c.maxWait()), c.abandoned()));
            }
        }
        final List<CellStats> convoys = convoys();
        if (!convoys.isEmpty())
        {
            out.append(String.format(Locale.ROOT, "convoys: requests wait far longer for these cells than anyone holds them " +
                "(mean wait > %dx mean hold, at least %d waits)%n", CellStats.CONVOY_WAIT_TO_HOLD, CellStats.CONVOY_MIN_SAMPLES));
            out.append(String.format(Locale.ROOT, "%-" + width + "s %8s %10s %10s %10s%n", "stage", "data set", "mean hold",
                "mean wait", "wait/hold"));
            for (final CellStats c : convoys.subList(0, Math.min(convoys.size(), Math.max(hottestCells, 1))))
            {
                out.append(String.format(Locale.ROOT, "%-" + width + "s %8d %10s %10s %9s%n", c.stage(), c.column(),
                    nanos(Math.round(c.meanHoldNanos())), nanos(Math.round(c.meanWaitNanos())), times(c.waitToHold())));
            }
            out.append(String.format(Locale.ROOT, "%s%n", CONVOY_ADVICE));
        }
        return out.toString();
    }

    @Override
    public String toString()
    {
        return table();
    }

    private String map(final int row, final int fold)
    {
        final StringBuilder line = new StringBuilder(MAP_WIDTH);
        for (int c = 0; c < columns; c += fold)
        {
            long acquisitions = 0;
            long contended = 0;
            for (int k = c; k < Math.min(columns, c + fold); k++)
            {
                final CellStats cell = cell(row, k);
                acquisitions += cell.acquisitions();
                contended += cell.contended();
            }
            if (acquisitions == 0)
            {
                line.append(' ');
            }
            else if (contended == 0)
            {
                line.append('.');
            }
            else
            {
                line.append((char)('0' + Math.min(9, (int)(contended * 10 / acquisitions))));
            }
        }
        return line.toString();
    }

    private static CellStats total(final String stage, final int row, final List<CellStats> of)
    {
        long acquisitions = 0;
        long contended = 0;
        long abandoned = 0;
        long holdSamples = 0;
        long holdNanos = 0;
        final Histogram waits = new PackedHistogram(2);
        for (final CellStats c : of)
        {
            acquisitions += c.acquisitions();
            contended += c.contended();
            abandoned += c.abandoned();
            holdSamples += c.holdSamples();
            holdNanos += c.holdNanos();
            if (c.waitTimes().getTotalCount() > 0)
            {
                waits.add(c.waitTimes());
            }
        }
        return new CellStats(stage, row, -1, acquisitions, contended, abandoned, waits, holdSamples, holdNanos);
    }

    /** What the table says under its convoys. */
    static final String CONVOY_ADVICE = "a cell this cheap to hold is not worth queueing for: keep its data set on one worker " +
        "(a partitioned stage), use an atomic, or split the data set (lock-grid guide: \"When a cell is the wrong tool\")";

    /** A ratio with a thousands separator and an x: 12x, 4,812x. */
    static String times(final double ratio)
    {
        return ratio >= 100 ? String.format(Locale.ROOT, "%,.0fx", ratio) : String.format(Locale.ROOT, "%.1fx", ratio);
    }

    static String percent(final double rate)
    {
        return String.format(Locale.ROOT, "%.2f%%", rate * 100);
    }

    /** Human duration: ns below a microsecond, then three significant figures in µs, ms or s. */
    static String nanos(final long nanos)
    {
        if (nanos < 1_000)
        {
            return nanos + " ns";
        }
        final String[] units = {"µs", "ms", "s"};
        double value = nanos / 1e3;
        int unit = 0;
        // 999.7 µs must print as 1.00 ms, not as 1.00e+03 µs: compare after rounding to 3 figures.
        while (unit < units.length - 1 && Double.parseDouble(String.format(Locale.ROOT, "%.3g", value)) >= 1_000)
        {
            value /= 1e3;
            unit++;
        }
        return String.format(Locale.ROOT, "%.3g %s", value, units[unit]);
    }
}
