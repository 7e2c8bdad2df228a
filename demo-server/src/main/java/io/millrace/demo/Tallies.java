package io.millrace.demo;

import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.lock.LockGrid;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * The named counters behind {@code /tally/{name}}, guarded by a {@link LockGrid}: the tally stage is
 * inline, so requests for one name arrive on every worker, and each data set of names (a column of
 * the grid) is one plain {@link HashMap} that only the holder of its cell touches. {@code /kv} shows
 * the other way to own data, a partitioned stage.
 *
 * <p>The work under a cell is a map lookup and an increment, tens of nanoseconds: the case the lock
 * grid guide calls a poor fit, kept here on purpose so that {@code /stats} shows what a grid under
 * load looks like, convoys included. A real counter service would partition it.
 *
 * <p>Bounded: at most {@link #MAX_NAMES_PER_DATA_SET} names per data set (507 past it), names of 1 to
 * {@link #MAX_NAME_CHARS} characters.
 *
 * <p>Threading: each map is read and written only by the request holding its cell; the grid's
 * hand-over (a CAS, then a ring publish or a same-thread run) orders consecutive holders.
 */
final class Tallies
{
    /** Columns of the grid: data sets of names. */
    static final int DATA_SETS = 64;
    /** Most names in one data set. */
    static final int MAX_NAMES_PER_DATA_SET = 1_000;
    /** Longest name. */
    static final int MAX_NAME_CHARS = 64;

    private static final HeaderBlock TEXT = HeaderBlock.TEXT_PLAIN;
    private static final byte[] BAD_NAME = ("a tally name is one path segment of 1 to " + MAX_NAME_CHARS +
        " characters: /tally/{name}\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FULL = "too many tallies\n".getBytes(StandardCharsets.US_ASCII);

    private final LockGrid grid;
    private final HashMap<String, long[]>[] dataSets;

    /**
     * @param stage the tally stage, the grid's one row
     */
    @SuppressWarnings("unchecked")
    Tallies(final StageRef<HttpExchange> stage)
    {
        this.grid = LockGrid.builder().name("tallies").rows(stage).columns(DATA_SETS).build();
        this.dataSets = new HashMap[DATA_SETS];
        for (int i = 0; i < DATA_SETS; i++)
        {
            dataSets[i] = new HashMap<>();
        }
    }

    /** @return the grid, for the stats page */
    LockGrid grid()
    {
        return grid;
    }

    /**
     * {@code POST /tally/{name}} adds one and answers the new count; {@code GET} answers the count
     * (0 for a name never counted). Everything before {@code acquire} is free of side effects: a
     * request that parks runs this again from the top when the cell is handed to it.
     */
    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        final String name = x.pathRemainder();
        if (name.isEmpty() || name.length() > MAX_NAME_CHARS || name.indexOf('/') >= 0)
        {
            return x.respond(404, TEXT, BAD_NAME);
        }
        final long key = name.hashCode();
        if (!grid.acquire(ctx, key))
        {
            return Outcome.blocked();
        }
        final long value;
        try
        {
            final HashMap<String, long[]> names = dataSets[grid.columnOf(key)];
            long[] count = names.get(name);
            if ("POST".equals(x.method()))
            {
                if (count == null)
                {
                    if (names.size() >= MAX_NAMES_PER_DATA_SET)
                    {
                        return x.respond(507, TEXT, FULL);
                    }
                    count = new long[1];
                    names.put(name, count);
                }
                value = ++count[0];
            }
            else
            {
                value = count == null ? 0 : count[0];
            }
        }
        finally
        {
            grid.release(ctx, key);
        }
        return x.respondText(200, value + "\n");
    }
}
