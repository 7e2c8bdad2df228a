package io.millrace.demo.stats;

import io.millrace.metrics.WorkerMetrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The workers: a chart of each inbox ring's depth over the history, and a row per worker with its
 * depth against the ring's capacity, batches, hops sent, parks and wakes.
 *
 * <p>Stateless; safe from any thread.
 */
public final class WorkersSection implements StatsSection
{
    private static final int WIDTH = 600;
    private static final int PLOT_HEIGHT = 120;

    @Override
    public String title()
    {
        return "Workers and ring depths";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final List<WorkerMetrics> workers = frame.snapshot().workers();
        final List<LineChart.Series> depths = new ArrayList<>();
        for (int w = 0; w < workers.size(); w++)
        {
            final int index = w;
            depths.add(new LineChart.Series("worker " + w, frame.samples().stream()
                .mapToDouble(s -> index < s.ringDepth().length ? s.ringDepth()[index] : Double.NaN).toArray()));
        }
        html.append(LineChart.svg("Inbox ring depth (events waiting), sampled each second", frame.times(),
            frame.nowMillis(), depths, LineChart.Scale.LINEAR, Units::count, WIDTH, PLOT_HEIGHT));
        html.append("<table>\n");
        Html.row(html, "th", 1, "worker thread", "ring depth", "events received", "batches", "mean batch", "max batch",
            "hops sent", "local submits", "local resumes", "parks", "wakes", "completed", "failed");
        for (final WorkerMetrics w : workers)
        {
            final double fill = w.ringCapacity() == 0 ? 0 : (double)w.ringDepth() / w.ringCapacity();
            Html.row(html, "td", 1, Html.escape(w.threadName()),
                Html.bar(fill, Units.count(w.ringDepth()) + " of " + Units.count(w.ringCapacity()), fill > 0.5),
                Units.count(w.publishesReceived()), Units.count(w.batches()),
                String.format(Locale.ROOT, "%.2f", w.meanBatch()), Units.count(w.maxBatch()), Units.count(w.publishesSent()),
                Units.count(w.localSubmits()), Units.count(w.localResumes()), Units.count(w.parks()), Units.count(w.wakes()),
                Units.count(w.completed()), Units.count(w.failed()));
        }
        html.append("</table>\n");
    }
}
