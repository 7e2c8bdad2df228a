package io.millrace.demo.stats;

import io.millrace.memory.PoolStats;

import java.util.List;

/**
 * The workers' lookaside pools (request contexts, buffer chunks): hit rate over the last minute and
 * since start, as bars, and the pools' counters.
 *
 * <p>Stateless; safe from any thread.
 */
public final class PoolsSection implements StatsSection
{
    /** Below this hit rate a pool's bar turns red: most acquisitions then allocate. */
    static final double LOW_HIT_RATE = 0.9;

    @Override
    public String title()
    {
        return "Pool hit rates";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final List<PoolStats> pools = StatsHistory.pools(frame.snapshot());
        final StatsSample latest = frame.latest();
        final StatsSample minuteAgo = frame.secondsBefore(60);
        html.append("<table>\n");
        Html.row(html, "th", 1, "pool", "hit rate, last minute", "hit rate, since start", "hits", "misses", "frees",
            "returns", "drops", "sweeps", "evicted", "idle", "live");
        for (int p = 0; p < pools.size(); p++)
        {
            final PoolStats pool = pools.get(p);
            String recent = "-";
            if (latest != null && minuteAgo != null && latest != minuteAgo && p < latest.poolHits().length &&
                p < minuteAgo.poolHits().length)
            {
                recent = rate(latest.poolHits()[p] - minuteAgo.poolHits()[p], latest.poolMisses()[p] - minuteAgo.poolMisses()[p]);
            }
            Html.row(html, "td", 1, Html.escape(pool.name()), recent, rate(pool.hits(), pool.misses()),
                Units.count(pool.hits()), Units.count(pool.misses()), Units.count(pool.frees()), Units.count(pool.returns()),
                Units.count(pool.drops()), Units.count(pool.sweeps()), Units.count(pool.evicted()), Units.count(pool.idle()),
                Units.count(pool.live()));
        }
        html.append("</table>\n<p class=\"note\">A miss creates an object; a drop gives one to the garbage collector. ")
            .append("Returns come back from other threads.</p>\n");
    }

    private static String rate(final long hits, final long misses)
    {
        final long all = hits + misses;
        if (all <= 0)
        {
            return "-";
        }
        final double rate = (double)hits / all;
        return Html.bar(rate, Units.percent(rate), rate < LOW_HIT_RATE);
    }
}
