package io.millrace.demo.stats;

import io.millrace.http.HttpDate;
import io.millrace.metrics.MetricsSnapshot;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The {@code /stats} page: one self-contained HTML document (inline CSS and SVG, no script, nothing
 * fetched from elsewhere) that reloads itself every {@value #REFRESH_SECONDS} seconds, made of
 * {@link StatsSection}s rendered in order. Numbers carry readable units ({@link Units}); charts come
 * from a {@link StatsHistory} that a {@link StatsSampler} fills once a second.
 *
 * <p>The page shows the sampler's latest snapshot (at most one sampling period old) instead of
 * taking its own: {@code /stats} runs on a worker, and a snapshot waits (up to 50 ms) for every busy
 * thread to hand its histograms over, the calling worker included, which cannot while it renders.
 * Only before the first sample does the page take one itself.
 *
 * <p>Sections can be added at any time with {@link #add(StatsSection)}: that is where a component
 * started later hooks in (the demo's reverse proxy passes its upstream table to the constructor).
 *
 * <p>Threading: {@link #render()} from any thread, concurrently; the section list is copy-on-write.
 */
public final class StatsPage
{
    /** Seconds between the page's reloads (a meta refresh). */
    public static final int REFRESH_SECONDS = 2;

    private static final String STYLE = """
        body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1240px; color: #111827; }
        h1 { font-size: 22px; margin: 0 0 4px 0; }
        h3 { font-size: 15px; margin: 12px 0 4px 0; }
        h2 { font-size: 17px; margin: 28px 0 8px 0; padding-bottom: 4px; border-bottom: 2px solid #e5e7eb; }
        nav { font-size: 13px; margin: 6px 0 0 0; }
        nav a { margin-right: 12px; color: #2563eb; text-decoration: none; }
        p.status { color: #374151; margin: 4px 0; font-size: 14px; }
        .tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
        .tile { border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
        .tile .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .tile .k { font-size: 12px; color: #6b7280; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        table { border-collapse: collapse; margin: 4px 0 12px 0; font-size: 12.5px; }
        th, td { padding: 3px 7px; border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
        th { text-align: left; background: #f3f4f6; font-weight: 600; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        .bar { display: inline-block; width: 80px; height: 8px; background: #e5e7eb; border-radius: 4px; vertical-align: middle; overflow: hidden; }
        .fill { display: block; height: 100%; background: #4e79a7; }
        .fill.warn { background: #e15759; }
        .warn-text { color: #b91c1c; }
        p.note { color: #4b5563; font-size: 13px; }
        """;

    private final Supplier<MetricsSnapshot> metrics;
    private final StatsHistory history;
    private final List<StatsSection> sections = new CopyOnWriteArrayList<>();

    /**
     * @param metrics  the pipeline's metrics, for a rendering before the history has any
     * @param history  the recent samples for the charts
     * @param sections the sections, in page order
     */
    public StatsPage(final Supplier<MetricsSnapshot> metrics, final StatsHistory history, final List<StatsSection> sections)
    {
        this.metrics = metrics;
        this.history = history;
        this.sections.addAll(sections);
    }

    /**
     * Appends a section to the page, for every later rendering.
     *
     * @param section the section
     * @return this page
     */
    public StatsPage add(final StatsSection section)
    {
        sections.add(java.util.Objects.requireNonNull(section, "section"));
        return this;
    }

    /**
     * @return the page, from the history's latest snapshot and its samples
     */
    public String render()
    {
        final MetricsSnapshot sampled = history.latestSnapshot();
        return render(sampled != null ? sampled : metrics.get(), System.currentTimeMillis());
    }

    /**
     * @param snapshot  the metrics to show
     * @param nowMillis the rendering's time
     * @return the page
     */
    String render(final MetricsSnapshot snapshot, final long nowMillis)
    {
        final StatsFrame frame;
        synchronized (history)
        {
            frame = new StatsFrame(snapshot, history.samples(), history.stageNames(), history.poolNames(), nowMillis);
        }
        final StringBuilder html = new StringBuilder(64 * 1024);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">\n")
            .append("<title>Millrace stats</title>\n<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n")
            .append("<h1>Millrace</h1>\n<p class=\"status\">").append(HttpDate.now())
            .append(snapshot.up() ? "" : " &mdash; <span class=\"warn-text\">pipeline FAILED: " +
                Html.escape(String.valueOf(snapshot.failure())) + "</span>")
            .append(String.format(Locale.ROOT, " &middot; refreshes every %d s &middot; charts: one sample a second, " +
                "the last %s", REFRESH_SECONDS, minutes(history.capacity())))
            .append("</p>\n<nav>");
        final List<StatsSection> page = List.copyOf(sections);
        for (int i = 0; i < page.size(); i++)
        {
            html.append("<a href=\"#s").append(i).append("\">").append(Html.escape(page.get(i).title())).append("</a>");
        }
        html.append("</nav>\n");
        for (int i = 0; i < page.size(); i++)
        {
            final StatsSection section = page.get(i);
            html.append("<section id=\"s").append(i).append("\">\n<h2>").append(Html.escape(section.title())).append("</h2>\n");
            final int mark = html.length();
            try
            {
                section.render(frame, html);
            }
            catch (final RuntimeException ex)
            {
                html.setLength(mark);
                html.append("<p class=\"warn-text\">This section failed to render: ").append(Html.escape(ex.toString()))
                    .append("</p>\n");
            }
            html.append("</section>\n");
        }
        html.append("<p class=\"note\">Machine-readable: <a href=\"/metrics\">/metrics</a> (Prometheus text).</p>\n")
            .append("</body>\n</html>\n");
        return html.toString();
    }

    private static String minutes(final int samples)
    {
        return samples % 60 == 0 ? samples / 60 + " minutes" : samples + " seconds";
    }
}
