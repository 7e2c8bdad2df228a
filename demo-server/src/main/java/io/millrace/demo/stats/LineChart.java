package io.millrace.demo.stats;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * A time-series line chart as an inline SVG element: time on x (the last minute at least, up to the
 * history's length, "now" at the right), one line per series, a linear or logarithmic y axis with
 * readable tick labels, and a legend with each series' latest value.
 *
 * <p>Stateless; safe from any thread. Allocates its string (not a hot path).
 */
final class LineChart
{
    /** How the y axis maps values. */
    enum Scale
    {
        /** From 0 to a round number above the largest value. */
        LINEAR,
        /** Decades, for values that span orders of magnitude (latencies); values <= 0 are not drawn. */
        LOG
    }

    /**
     * One line.
     *
     * @param name   its legend name (escaped when drawn)
     * @param values one value per sample time; {@code NaN} leaves a gap
     */
    record Series(String name, double[] values)
    {
    }

    /** Tableau 10: distinguishable, and readable for the common colour-vision deficiencies. */
    static final String[] PALETTE = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
        "#ff9da7", "#9c755f", "#bab0ac"};

    private static final int LEFT = 70;
    private static final int RIGHT = 16;
    private static final int TOP = 30;
    private static final int AXIS = 24;
    private static final int LEGEND_ROW = 18;
    private static final int LEGEND_ITEM = 190;
    private static final long MIN_SPAN_MILLIS = 60_000;
    private static final long[] TIME_STEPS_SECONDS = {10, 15, 30, 60, 120, 300, 600};

    private LineChart()
    {
    }

    /**
     * @param title     the chart's title
     * @param atMillis  the samples' times, oldest first
     * @param nowMillis the right edge
     * @param series    the lines; each has one value per entry of {@code atMillis}
     * @param scale     the y axis
     * @param format    renders a y value with its unit (ticks and legend)
     * @param width     pixels
     * @param plotHeight pixels of the plotting area (the legend adds to the total)
     * @return an {@code <svg>} element
     */
    static String svg(final String title, final long[] atMillis, final long nowMillis, final List<Series> series,
        final Scale scale, final DoubleFunction<String> format, final int width, final int plotHeight)
    {
        final int perRow = Math.max(1, (width - LEFT) / LEGEND_ITEM);
        final int legendRows = (series.size() + perRow - 1) / perRow;
        final int height = TOP + plotHeight + AXIS + 8 + legendRows * LEGEND_ROW;
        final int plotWidth = width - LEFT - RIGHT;
        final StringBuilder svg = new StringBuilder(4096 + series.size() * atMillis.length * 16);
        svg.append(String.format(Locale.ROOT, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" " +
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">%n",
            width, height, width, height));
        svg.append("<title>").append(Html.escape(title)).append("</title>\n");
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\" fill=\"#111827\">%s</text>%n",
            LEFT, Html.escape(title)));

        // The x domain: at least a minute, so that the first seconds do not stretch across the chart.
        final long start = atMillis.length == 0 ? nowMillis - MIN_SPAN_MILLIS
            : Math.min(atMillis[0], nowMillis - MIN_SPAN_MILLIS);
        final double span = Math.max(1, nowMillis - start);
        final Axis y = Axis.of(series, scale);

        // Grid and y labels.
        for (final double tick : y.ticks())
        {
            final double py = TOP + plotHeight - y.position(tick) * plotHeight;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>%n",
                LEFT, py, LEFT + plotWidth, py));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#4b5563\">%s</text>%n",
                LEFT - 6, py + 4, Html.escape(format.apply(tick))));
        }
        // Time ticks, counted back from now.
        final long spanSeconds = (long)Math.ceil(span / 1000);
        long step = TIME_STEPS_SECONDS[TIME_STEPS_SECONDS.length - 1];
        for (final long s : TIME_STEPS_SECONDS)
        {
            if (spanSeconds / s <= 6)
            {
                step = s;
                break;
            }
        }
        for (long back = 0; back * 1000 <= span; back += step)
        {
            final double px = LEFT + plotWidth - back * 1000 / span * plotWidth;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#f3f4f6\"/>%n",
                px, TOP, px, TOP + plotHeight));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#4b5563\">%s</text>%n",
                px, TOP + plotHeight + 16, back == 0 ? "now" : ago(back)));
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#9ca3af\"/>%n",
            LEFT, TOP, plotWidth, plotHeight));

        if (atMillis.length == 0 || y.empty())
        {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#6b7280\">%s</text>%n",
                LEFT + plotWidth / 2, TOP + plotHeight / 2, atMillis.length == 0 ? "collecting samples (one a second)"
                    : "nothing to draw yet"));
        }
        for (int s = 0; s < series.size(); s++)
        {
            final Series line = series.get(s);
            final String colour = PALETTE[s % PALETTE.length];
            final StringBuilder d = new StringBuilder(line.values().length * 16);
            final StringBuilder dots = new StringBuilder();
            final double[] values = line.values();
            final int n = Math.min(atMillis.length, values.length);
            boolean segments = false;
            for (int i = 0; i < n; i++)
            {
                if (!y.drawable(values[i]))
                {
                    continue;
                }
                final double px = LEFT + (atMillis[i] - start) / span * plotWidth;
                final double py = TOP + plotHeight - y.position(values[i]) * plotHeight;
                final boolean before = i > 0 && y.drawable(values[i - 1]);
                final boolean after = i + 1 < n && y.drawable(values[i + 1]);
                if (!before && !after)
                {
                    // A point between gaps: a line of one point would not show.
                    dots.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>%n",
                        px, py, colour));
                    continue;
                }
                d.append(before ? " L" : " M").append(String.format(Locale.ROOT, "%.1f %.1f", px, py));
                segments = true;
            }
            if (segments)
            {
                svg.append("<path fill=\"none\" stroke=\"").append(colour)
                    .append("\" stroke-width=\"1.8\" stroke-linejoin=\"round\" d=\"").append(d.toString().trim())
                    .append("\"><title>").append(Html.escape(line.name())).append("</title></path>\n");
            }
            svg.append(dots);
            final int lx = LEFT + (s % perRow) * LEGEND_ITEM;
            final int ly = TOP + plotHeight + AXIS + 8 + (s / perRow) * LEGEND_ROW;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>%n", lx, ly - 4, colour));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#111827\">%s <tspan fill=\"#4b5563\">%s</tspan></text>%n",
                lx + 20, ly, Html.escape(line.name()), Html.escape(latest(line, format))));
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static String latest(final Series line, final DoubleFunction<String> format)
    {
        final double[] v = line.values();
        return v.length == 0 || Double.isNaN(v[v.length - 1]) ? "-" : format.apply(v[v.length - 1]);
    }

    private static String ago(final long seconds)
    {
        return seconds % 60 == 0 ? "-" + seconds / 60 + " min" : "-" + seconds + " s";
    }

    /** The y axis: its domain and ticks. */
    private record Axis(Scale scale, double low, double high, boolean empty)
    {
        static Axis of(final List<Series> series, final Scale scale)
        {
            double min = Double.POSITIVE_INFINITY;
            double max = 0;
            for (final Series s : series)
            {
                for (final double v : s.values())
                {
                    if (Double.isNaN(v) || (scale == Scale.LOG && v <= 0))
                    {
                        continue;
                    }
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            final boolean empty = min == Double.POSITIVE_INFINITY;
            if (scale == Scale.LOG)
            {
                if (empty)
                {
                    return new Axis(scale, 2, 6, true); // 100 ns to 1 ms, an empty frame
                }
                final double lo = Math.floor(Math.log10(min));
                final double hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
                return new Axis(scale, lo, hi, false);
            }
            final double step = niceStep(empty || max == 0 ? 1 : max / 4);
            return new Axis(scale, 0, step * Math.max(1, Math.ceil(max / step)), empty || max == 0);
        }

        boolean drawable(final double v)
        {
            return !Double.isNaN(v) && (scale == Scale.LINEAR || v > 0);
        }

        /** From 0 (bottom) to 1 (top). */
        double position(final double v)
        {
            final double p = scale == Scale.LOG ? (Math.log10(v) - low) / (high - low) : (v - low) / (high - low);
            return Math.max(0, Math.min(1, p));
        }

        double[] ticks()
        {
            if (scale == Scale.LOG)
            {
                final int decades = (int)(high - low);
                final double[] t = new double[decades + 1];
                for (int i = 0; i <= decades; i++)
                {
                    t[i] = Math.pow(10, low + i);
                }
                return t;
            }
            final double step = niceStep(high / 4);
            final int n = (int)Math.round(high / step);
            final double[] t = new double[n + 1];
            for (int i = 0; i <= n; i++)
            {
                t[i] = i * step;
            }
            return t;
        }

        /**
         * The smallest of 1, 2, 5 x 10^k at or above {@code v}: a tick step whose multiples read
         * well; at most four steps span the axis (counts of 4 and up get whole-number ticks).
         */
        static double niceStep(final double v)
        {
            final double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
            for (final double m : new double[] {1, 2, 5})
            {
                if (m * magnitude >= v * (1 - 1e-9))
                {
                    return m * magnitude;
                }
            }
            return 10 * magnitude;
        }
    }
}
