package io.millrace.demo.stats;

import java.util.Locale;

/**
 * Numbers as a person reads them: three significant figures and a unit that keeps them small.
 * Durations in ns, µs, ms or s ("2.00 s", never "2,004,877.3 µs"), counts with k, M, G, rates per
 * second, bytes in binary units (KiB, MiB, GiB).
 *
 * <p>Stateless; safe from any thread.
 */
public final class Units
{
    private static final String[] TIME_UNITS = {"ns", "µs", "ms", "s"};
    private static final String[] COUNT_UNITS = {"", "k", "M", "G", "T"};
    private static final String[] BYTE_UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private Units()
    {
    }

    /**
     * @param nanos a duration in nanoseconds
     * @return e.g. {@code 850 ns}, {@code 12.3 µs}, {@code 4.56 ms}, {@code 2.00 s}; minutes stay in
     *         seconds ({@code 125 s})
     */
    public static String duration(final double nanos)
    {
        if (nanos < 0 || Double.isNaN(nanos))
        {
            return "-";
        }
        return scaled(nanos, 1000, TIME_UNITS, " ");
    }

    /**
     * @param value a count
     * @return e.g. {@code 950}, {@code 12.3k}, {@code 4.56M}
     */
    public static String count(final double value)
    {
        if (Double.isNaN(value))
        {
            return "-";
        }
        if (Math.abs(value) < 1000)
        {
            return value == Math.rint(value) ? Long.toString((long)value) : threeFigures(value);
        }
        return scaled(value, 1000, COUNT_UNITS, "");
    }

    /**
     * @param perSecond events per second
     * @return e.g. {@code 12.3k/s}
     */
    public static String rate(final double perSecond)
    {
        return count(perSecond) + "/s";
    }

    /**
     * @param bytes a size
     * @return e.g. {@code 512 B}, {@code 16.0 KiB}, {@code 1.50 MiB}
     */
    public static String bytes(final double bytes)
    {
        if (bytes < 1024)
        {
            return Math.round(bytes) + " B";
        }
        return scaled(bytes, 1024, BYTE_UNITS, " ");
    }

    /**
     * @param fraction from 0 to 1
     * @return e.g. {@code 98.2%}, {@code 99.96%}, {@code 100%} (only when exact), {@code 0.04%}
     */
    public static String percent(final double fraction)
    {
        if (Double.isNaN(fraction))
        {
            return "-";
        }
        final double p = fraction * 100;
        if (p == 0 || p == 100)
        {
            return (long)p + "%";
        }
        if (p < 1 || p >= 99)
        {
            // Near the ends the interesting digits are the small ones: 0.04%, 99.96%; never round
            // a rate that is not exactly 100% (or 0%) up (or down) to it.
            final double shown = Math.max(0.01, Math.min(99.99, p));
            return String.format(Locale.ROOT, "%.2f", shown) + "%";
        }
        return String.format(Locale.ROOT, "%.1f", p) + "%";
    }

    /**
     * @param ratio a ratio, such as a wait over a hold
     * @return e.g. {@code 3.2x}, {@code 48x}, {@code 1,080x}
     */
    public static String times(final double ratio)
    {
        if (Double.isNaN(ratio))
        {
            return "-";
        }
        return (ratio < 10 ? String.format(Locale.ROOT, "%.1f", ratio) : String.format(Locale.ROOT, "%,.0f", ratio)) + "x";
    }

    /** Divides by {@code base} until the value, rounded to three figures, is below it. */
    private static String scaled(final double value, final double base, final String[] units, final String space)
    {
        double v = value;
        int unit = 0;
        // 999.7 must print as 1.00 of the next unit, not as 1000 of this one: compare after rounding.
        while (unit < units.length - 1 && Math.abs(Double.parseDouble(threeFigures(v))) >= base)
        {
            v /= base;
            unit++;
        }
        final String number = unit == 0 && v == Math.rint(v) ? Long.toString((long)v) : threeFigures(v);
        return number + (units[unit].isEmpty() ? "" : space + units[unit]);
    }

    /** Three significant figures without exponent: 1.23, 12.3, 123, 1234. */
    private static String threeFigures(final double v)
    {
        final double a = Math.abs(v);
        if (a >= 100)
        {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10)
        {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
