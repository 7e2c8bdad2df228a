package io.millrace.demo.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Two charts of the history: requests per second (all completions, then the busiest stages) and
 * p99 service time per stage with the end-to-end p99, on a logarithmic axis because stages take
 * nanoseconds and requests milliseconds.
 *
 * <p>Stateless; safe from any thread.
 */
public final class ChartsSection implements StatsSection
{
    /** Stages drawn at most, the busiest over the history; more lines would not be readable. */
    static final int MAX_STAGES = 7;
    private static final int WIDTH = 600;
    private static final int PLOT_HEIGHT = 220;

    @Override
    public String title()
    {
        return "Throughput and p99, last minutes";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final List<StatsSample> samples = frame.samples();
        final long[] times = frame.times();
        final List<Integer> stages = busiest(frame);

        final List<LineChart.Series> rates = new ArrayList<>();
        rates.add(new LineChart.Series("completed", samples.stream().mapToDouble(StatsSample::completed).toArray()));
        final List<LineChart.Series> p99 = new ArrayList<>();
        p99.add(new LineChart.Series("end to end", samples.stream().mapToDouble(x -> x.endToEndP99()).toArray()));
        for (final int stage : stages)
        {
            final String name = frame.stageNames().get(stage);
            rates.add(new LineChart.Series(name, samples.stream().mapToDouble(x -> x.stageRequests()[stage]).toArray()));
            p99.add(new LineChart.Series(name, samples.stream()
                .mapToDouble(x -> x.stageP99()[stage] == 0 ? Double.NaN : x.stageP99()[stage]).toArray()));
        }
        html.append("<div class=\"charts\">\n");
        html.append(LineChart.svg("Requests per second", times, frame.nowMillis(), rates, LineChart.Scale.LINEAR,
            Units::rate, WIDTH, PLOT_HEIGHT));
        html.append(LineChart.svg("p99 per second: stage service time, end to end", times, frame.nowMillis(), p99,
            LineChart.Scale.LOG, Units::duration, WIDTH, PLOT_HEIGHT));
        html.append("</div>\n");
    }

    /** Stages with requests in the history, busiest first, at most {@value #MAX_STAGES}. */
    private static List<Integer> busiest(final StatsFrame frame)
    {
        final int n = frame.stageNames().size();
        final double[] total = new double[n];
        for (final StatsSample s : frame.samples())
        {
            for (int i = 0; i < n && i < s.stageRequests().length; i++)
            {
                total[i] += s.stageRequests()[i];
            }
        }
        return IntStream.range(0, n).filter(i -> total[i] > 0).boxed()
            .sorted(Comparator.comparingDouble((Integer i) -> total[i]).reversed()).limit(MAX_STAGES).toList();
    }
}
