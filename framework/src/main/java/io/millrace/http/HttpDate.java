package io.millrace.http;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * HTTP dates in IMF-fixdate form (RFC 9110 section 5.6.7), e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}.
 * Only that form: the obsolete RFC 850 and asctime forms, which recipients "should" accept, parse
 * as unparseable here. {@link java.time.format.DateTimeFormatter#RFC_1123_DATE_TIME} is not used
 * because it does not pad the day to two digits.
 *
 * <p>Stateless apart from the cache behind {@link #now()}; safe from any thread.
 */
public final class HttpDate
{
    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    private static final int LENGTH = 29;

    /** The formatted date of one second; replaced whole, so readers never see a torn pair. */
    private record Second(long epochSecond, String text, byte[] line)
    {
    }

    private static volatile Second current = new Second(Long.MIN_VALUE, "", new byte[0]);

    private HttpDate()
    {
    }

    /**
     * @param epochMillis milliseconds since 1970-01-01T00:00:00Z; the sub-second part is dropped
     * @return that instant as an IMF-fixdate
     * @throws IllegalArgumentException if the year is outside 0000 to 9999, which the form cannot show
     */
    public static String format(final long epochMillis)
    {
        final LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000), 0, ZoneOffset.UTC);
        if (t.getYear() < 0 || t.getYear() > 9999)
        {
            throw new IllegalArgumentException("year " + t.getYear() + " does not fit an HTTP date");
        }
        final StringBuilder s = new StringBuilder(LENGTH);
        s.append(DAYS[t.getDayOfWeek().ordinal()]).append(", ");
        two(s, t.getDayOfMonth()).append(' ').append(MONTHS[t.getMonthValue() - 1]).append(' ');
        two(two(s, t.getYear() / 100), t.getYear() % 100).append(' ');
        two(s, t.getHour()).append(':');
        two(s, t.getMinute()).append(':');
        two(s, t.getSecond()).append(" GMT");
        return s.toString();
    }

    /**
     * @param text an IMF-fixdate; the day name must be the date's
     * @return milliseconds since the epoch, or -1 if {@code text} is null or not an IMF-fixdate
     */
    public static long parse(final String text)
    {
        if (text == null || text.length() != LENGTH || !text.startsWith(", ", 3) || text.charAt(7) != ' ' ||
            text.charAt(11) != ' ' || text.charAt(16) != ' ' || text.charAt(19) != ':' || text.charAt(22) != ':' ||
            !text.endsWith(" GMT"))
        {
            return -1;
        }
        final int day = digits(text, 5, 2);
        final int month = indexOf(MONTHS, text.substring(8, 11));
        final int year = digits(text, 12, 4);
        final int hour = digits(text, 17, 2);
        final int minute = digits(text, 20, 2);
        final int second = digits(text, 23, 2);
        // A leap second (60) is allowed by the grammar; it reads as the first second of the next minute.
        if (day < 0 || month < 0 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60)
        {
            return -1;
        }
        final LocalDate date;
        try
        {
            date = LocalDate.of(year, month + 1, day);
        }
        catch (final DateTimeException e)
        {
            return -1;
        }
        if (!DAYS[date.getDayOfWeek().ordinal()].equals(text.substring(0, 3)))
        {
            return -1;
        }
        return (date.toEpochDay() * 86_400 + hour * 3600L + minute * 60L + second) * 1000;
    }

    /**
     * The Date field value for a response sent now. Formats at most once a second: the last result is
     * kept in a volatile holder; threads that find it stale each format and publish, and whichever
     * write lands last is as good as any other, so no lock is needed.
     *
     * @return the current time as an IMF-fixdate
     */
    public static String now()
    {
        return second().text;
    }

    /**
     * The whole {@code Date: <IMF-fixdate>\r\n} line for a response sent now, as bytes, made at most
     * once a second like {@link #now()}. The array is shared: do not modify it.
     *
     * @return the line's US-ASCII bytes
     */
    static byte[] dateLine()
    {
        return second().line;
    }

    private static Second second()
    {
        final long millis = System.currentTimeMillis();
        final long epochSecond = Math.floorDiv(millis, 1000);
        final Second cached = current;
        if (cached.epochSecond == epochSecond)
        {
            return cached;
        }
        final String text = format(millis);
        final Second fresh = new Second(epochSecond, text, ("Date: " + text + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        current = fresh;
        return fresh;
    }

    private static StringBuilder two(final StringBuilder s, final int value)
    {
        return s.append((char)('0' + value / 10)).append((char)('0' + value % 10));
    }

    /** @return the decimal value of {@code count} digits at {@code at}, or -1 if any is not a digit */
    private static int digits(final String text, final int at, final int count)
    {
        return Fixdate.digits(text, at, count);
    }

    private static int indexOf(final String[] names, final String name)
    {
        for (int i = 0; i < names.length; i++)
        {
            if (names[i].equals(name))
            {
                return i;
            }
        }
        return -1;
    }
}
