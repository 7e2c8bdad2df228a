package io.millrace.http;

/**
 * Parses an IMF-fixdate like {@link HttpDate#parse(String)}, from any CharSequence and without
 * allocating: {@code If-Modified-Since} is on the path of every cached static-file request, and
 * {@link HttpDate#parse(String)} makes substrings and a {@link java.time.LocalDate}. The calendar
 * arithmetic is the proleptic Gregorian one of {@code java.time} (days from civil, H. Hinnant).
 */
final class Fixdate
{
    private static final String DAYS = "MonTueWedThuFriSatSun";
    private static final String MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";
    private static final int LENGTH = 29;

    private Fixdate()
    {
    }

    /**
     * @param text an IMF-fixdate; the day name must be the date's
     * @return milliseconds since the epoch, or -1 if {@code text} is null or not an IMF-fixdate
     */
    static long parse(final CharSequence text)
    {
        if (text == null || text.length() != LENGTH || text.charAt(3) != ',' || text.charAt(4) != ' ' || text.charAt(7) != ' ' ||
            text.charAt(11) != ' ' || text.charAt(16) != ' ' || text.charAt(19) != ':' || text.charAt(22) != ':' ||
            text.charAt(25) != ' ' || text.charAt(26) != 'G' || text.charAt(27) != 'M' || text.charAt(28) != 'T')
        {
            return -1;
        }
        final int day = digits(text, 5, 2);
        final int month = name(MONTHS, text, 8);
        final int year = digits(text, 12, 4);
        final int hour = digits(text, 17, 2);
        final int minute = digits(text, 20, 2);
        final int second = digits(text, 23, 2);
        final int weekday = name(DAYS, text, 0);
        // A leap second (60) is allowed by the grammar; it reads as the first second of the next minute.
        if (day < 1 || month < 0 || year < 0 || weekday < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
            second < 0 || second > 60 || day > daysIn(month + 1, year))
        {
            return -1;
        }
        final long epochDay = epochDay(year, month + 1, day);
        // 1970-01-01 was a Thursday, index 3 from Monday.
        if (Math.floorMod(epochDay + 3, 7) != weekday)
        {
            return -1;
        }
        return (epochDay * 86_400 + hour * 3600L + minute * 60L + second) * 1000;
    }

    private static long epochDay(final int year, final int month, final int day)
    {
        final int y = month <= 2 ? year - 1 : year;
        final int era = Math.floorDiv(y, 400);
        final int yearOfEra = y - era * 400;
        final int dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        final int dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * 146_097L + dayOfEra - 719_468;
    }

    private static int daysIn(final int month, final int year)
    {
        return switch (month)
        {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** @return the index of the three letters at {@code at} in {@code names}, or -1 */
    private static int name(final String names, final CharSequence text, final int at)
    {
        for (int i = 0; i < names.length(); i += 3)
        {
            if (names.charAt(i) == text.charAt(at) && names.charAt(i + 1) == text.charAt(at + 1) &&
                names.charAt(i + 2) == text.charAt(at + 2))
            {
                return i / 3;
            }
        }
        return -1;
    }

    /** @return the decimal value of {@code count} digits at {@code at}, or -1 if any is not a digit */
    static int digits(final CharSequence text, final int at, final int count)
    {
        int value = 0;
        for (int i = at; i < at + count; i++)
        {
            final char c = text.charAt(i);
            if (c < '0' || c > '9')
            {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
