package io.millrace.lock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Draws a {@link ContentionReport} as a heat map: one row per stage, one column per data set, each
 * cell shaded by the chosen measure, with the exact numbers in its tooltip. The result is a
 * self-contained SVG document: serve it as {@code image/svg+xml}, embed it in an HTML page, or write
 * it to a file for the docs.
 *
 * <p>Stateless; safe from any thread.
 */
public final class HeatMap
{
    /** What a cell's shade shows. */
    public enum Shade
    {
        /** Contended / acquisitions, on a fixed 0-100% scale so that maps of different runs compare. */
        CONTENTION_RATE("contention rate"),
        /** Contended acquisitions, scaled to the most contended cell: where the waiting happens. */
        CONTENDED("contended acquisitions"),
        /** Total wait time, scaled to the cell with the most: where the time is lost. */
        WAIT_TIME("total wait time");

        private final String label;

        Shade(final String label)
        {
            this.label = label;
        }

        /**
         * @return the measure's name, as shown in the map's title
         */
        public String label()
        {
            return label;
        }
    }

    /** Light to dark: ColorBrewer's OrRd. */
    private static final int[] RAMP = {0xfff7ec, 0xfdd49e, 0xfc8d59, 0xd7301f, 0x7f0000};
    private static final String UNUSED = "#e5e7eb";
    private static final int ROW_HEIGHT = 26;
    private static final int CHAR_WIDTH = 7;

    private HeatMap()
    {
    }

    /**
     * @param report the report to draw
     * @param shade  what the shades show
     * @return an SVG document
     */
    public static String svg(final ContentionReport report, final Shade shade)
    {
        final int rows = report.rows().size();
        final int columns = report.columns();
        final int labelWidth = 16 + CHAR_WIDTH * report.rows().stream().mapToInt(String::length).max().orElse(5);
        final int cellWidth = Math.max(6, Math.min(64, 768 / columns));
        final int x0 = labelWidth;
        final int y0 = 58;
        final int gridWidth = cellWidth * columns;
        final String title = "lock grid '" + report.grid() + "': " + shade.label() + " by stage x data set";
        final String subtitle = String.format(Locale.ROOT,
            "%,d acquisitions, %,d contended (%s), %,d abandoned; hover a cell for its numbers",
            report.acquisitions(), report.contended(), ContentionReport.percent(report.contentionRate()), report.abandoned());
        // Wide enough for the title lines and the legend, at about 7 pixels a character.
        final int width = Math.max(x0 + gridWidth + 24, 24 + CHAR_WIDTH * Math.max(title.length(), subtitle.length()));
        final int legendY = y0 + rows * ROW_HEIGHT + 34;
        final int height = legendY + 44;
        final double max = scaleMax(report, shade);

        final StringBuilder svg = new StringBuilder(4096 + rows * columns * 200);
        svg.append(String.format(Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" " +
                "font-family=\"sans-serif\" font-size=\"12\">%n", width, height, width, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"8\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
            escape(title)));
        svg.append(String.format(Locale.ROOT, "<text x=\"8\" y=\"38\" fill=\"#374151\">%s</text>%n", escape(subtitle)));

        for (int r = 0; r < rows; r++)
        {
            final int y = y0 + r * ROW_HEIGHT;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", x0 - 8,
                y + ROW_HEIGHT / 2 + 4, escape(report.rows().get(r))));
            for (int c = 0; c < columns; c++)
            {
                final CellStats cell = report.cell(r, c);
                final int x = x0 + c * cellWidth;
                final double t = cell.acquisitions() == 0 || max <= 0 ? -1 : Math.min(1, value(cell, shade) / max);
                svg.append(String.format(Locale.ROOT,
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\">" +
                        "<title>%s</title></rect>%n", x, y, cellWidth, ROW_HEIGHT, t < 0 ? UNUSED : color(t), escape(tooltip(cell))));
                if (cellWidth >= 40 && cell.acquisitions() > 0)
                {
                    svg.append(String.format(Locale.ROOT,
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">%s</text>%n",
                        x + cellWidth / 2, y + ROW_HEIGHT / 2 + 4, t > 0.55 ? "#ffffff" : "#111827",
                        escape(shortValue(cell, shade))));
                }
            }
        }

        final int axisY = y0 + rows * ROW_HEIGHT + 14;
        final int step = Math.max(1, (int)Math.ceil(columns / 16.0));
        for (int c = 0; c < columns; c += step)
        {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4b5563\">%d</text>%n",
                x0 + c * cellWidth + cellWidth / 2, axisY, c));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#4b5563\">data set</text>%n",
            8, axisY));

        legend(svg, x0, legendY, shade, max);
        svg.append("</svg>\n");
        return svg.toString();
    }

    /**
     * Writes {@link #svg(ContentionReport, Shade)} to {@code file}, creating its directory.
     *
     * @param report the report to draw
     * @param shade  what the shades show
     * @param file   where to write
     * @return {@code file}
     * @throws IOException if writing fails
     */
    public static Path write(final ContentionReport report, final Shade shade, final Path file) throws IOException
    {
        final Path dir = file.toAbsolutePath().getParent();
        if (dir != null)
        {
            Files.createDirectories(dir);
        }
        return Files.writeString(file, svg(report, shade), StandardCharsets.UTF_8);
    }

    private static void legend(final StringBuilder svg, final int x0, final int y, final Shade shade, final double max)
    {
        final int steps = 40;
        final int stepWidth = 5;
        for (int i = 0; i < steps; i++)
        {
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"%s\"/>%n",
                x0 + i * stepWidth, y, stepWidth, color(i / (double)(steps - 1))));
        }
        final int end = x0 + steps * stepWidth;
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">0</text>%n", x0, y + 26));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>%n",
            end, y + 26, escape(format(max, shade))));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n",
            end + 16, y, UNUSED));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">unused</text>%n", end + 32, y + 10));
    }

    private static double scaleMax(final ContentionReport report, final Shade shade)
    {
        if (shade == Shade.CONTENTION_RATE)
        {
            return 1;
        }
        double max = 0;
        for (final CellStats cell : report.cells())
        {
            max = Math.max(max, value(cell, shade));
        }
        return max;
    }

    private static double value(final CellStats cell, final Shade shade)
    {
        return switch (shade)
        {
            case CONTENTION_RATE -> cell.contentionRate();
            case CONTENDED -> cell.contended();
            case WAIT_TIME -> cell.totalWaitNanos();
        };
    }

    private static String shortValue(final CellStats cell, final Shade shade)
    {
        return switch (shade)
        {
            case CONTENTION_RATE -> String.format(Locale.ROOT, "%.0f%%", cell.contentionRate() * 100);
            case CONTENDED -> String.format(Locale.ROOT, "%,d", cell.contended());
            case WAIT_TIME -> ContentionReport.nanos((long)cell.totalWaitNanos());
        };
    }

    private static String format(final double value, final Shade shade)
    {
        return switch (shade)
        {
            case CONTENTION_RATE -> String.format(Locale.ROOT, "%.0f%%", value * 100);
            case CONTENDED -> String.format(Locale.ROOT, "%,d contended", (long)value);
            case WAIT_TIME -> ContentionReport.nanos((long)value) + " waited";
        };
    }

    private static String tooltip(final CellStats cell)
    {
        return String.format(Locale.ROOT,
            "stage %s, data set %d: %,d acquisitions, %,d contended (%s), wait p50 %s p99 %s max %s, total %s, %,d abandoned",
            cell.stage(), cell.column(), cell.acquisitions(), cell.contended(), ContentionReport.percent(cell.contentionRate()),
            ContentionReport.nanos(cell.waitAtPercentile(50)), ContentionReport.nanos(cell.waitAtPercentile(99)),
            ContentionReport.nanos(cell.maxWait()), ContentionReport.nanos((long)cell.totalWaitNanos()), cell.abandoned());
    }

    /** Linear interpolation along {@link #RAMP}; {@code t} from 0 to 1. */
    static String color(final double t)
    {
        final double scaled = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
        final int i = Math.min(RAMP.length - 2, (int)scaled);
        final double f = scaled - i;
        final int a = RAMP[i];
        final int b = RAMP[i + 1];
        final int red = (int)Math.round(((a >> 16) & 0xff) * (1 - f) + ((b >> 16) & 0xff) * f);
        final int green = (int)Math.round(((a >> 8) & 0xff) * (1 - f) + ((b >> 8) & 0xff) * f);
        final int blue = (int)Math.round((a & 0xff) * (1 - f) + (b & 0xff) * f);
        return String.format(Locale.ROOT, "#%02x%02x%02x", red, green, blue);
    }

    static String escape(final String text)
    {
        final StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++)
        {
            final char ch = text.charAt(i);
            switch (ch)
            {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }
}
