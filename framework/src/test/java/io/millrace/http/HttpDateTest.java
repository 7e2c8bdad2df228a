package io.millrace.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpDateTest
{
    private static final long RFC_EXAMPLE = 784_111_777_000L;

    @Test
    void formatsTheRfcExample()
    {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(RFC_EXAMPLE));
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(RFC_EXAMPLE + 999), "milliseconds dropped");
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", HttpDate.format(0));
        assertEquals("Wed, 31 Dec 1969 23:59:59 GMT", HttpDate.format(-1));
        assertEquals("Fri, 31 Dec 9999 23:59:59 GMT", HttpDate.format(253_402_300_799_000L));
        assertThrows(IllegalArgumentException.class, () -> HttpDate.format(253_402_300_800_000L));
    }

    @Test
    void parsesTheRfcExample()
    {
        assertEquals(RFC_EXAMPLE, HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(0, HttpDate.parse("Thu, 01 Jan 1970 00:00:00 GMT"));
        assertEquals(Instant.parse("2016-12-31T23:59:59Z").toEpochMilli() + 1000, HttpDate.parse("Sat, 31 Dec 2016 23:59:60 GMT"),
            "a leap second reads as the next minute's first");
    }

    @Test
    void roundTripsRandomInstants()
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 10_000; i++)
        {
            final long seconds = random.nextLong(-62_167_219_200L, 253_402_300_800L);
            final String text = HttpDate.format(seconds * 1000);
            assertEquals(29, text.length(), text);
            assertEquals(seconds * 1000, HttpDate.parse(text), text);
            assertEquals(java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                Instant.ofEpochSecond(seconds).atZone(java.time.ZoneOffset.UTC)).replace(" GMT", "").substring(5),
                stripDayPadding(text).substring(5).replace(" GMT", ""), "agrees with java.time");
        }
    }

    /** java.time's RFC 1123 form does not pad the day; undo ours to compare. */
    private static String stripDayPadding(final String text)
    {
        return text.charAt(5) == '0' ? text.substring(0, 5) + text.substring(6) : text;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "garbage",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Thu, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
        "Sun,\t06 Nov 1994 08:49:37 GMT",
    })
    void refusesAnythingButAnImfFixdate(final String text)
    {
        assertEquals(-1, HttpDate.parse(text), text);
    }

    @Test
    void refusesNull()
    {
        assertEquals(-1, HttpDate.parse(null));
    }

    @Test
    void nowIsTheCurrentSecondAndCachedWithinIt()
    {
        final long before = System.currentTimeMillis() / 1000 * 1000;
        final String first = HttpDate.now();
        final String second = HttpDate.now();
        final long after = System.currentTimeMillis();
        final long parsed = HttpDate.parse(first);
        assertTrue(parsed >= before && parsed <= after, first);
        if (HttpDate.parse(second) == parsed)
        {
            assertSame(first, second, "formatted once per second");
        }
    }

    @Test
    void nowIsSafeFromManyThreads() throws InterruptedException
    {
        final Thread[] threads = new Thread[8];
        final Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads.length; t++)
        {
            threads[t] = new Thread(() ->
            {
                for (int i = 0; i < 100_000; i++)
                {
                    final long millis = System.currentTimeMillis();
                    final long parsed = HttpDate.parse(HttpDate.now());
                    if (parsed < 0 || Math.abs(parsed - millis) > 2_000)
                    {
                        synchronized (failure)
                        {
                            failure[0] = new AssertionError("now() gave " + parsed + " at " + millis);
                        }
                        return;
                    }
                }
            });
            threads[t].start();
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        synchronized (failure)
        {
            if (failure[0] != null)
            {
                throw new AssertionError(failure[0]);
            }
        }
    }
}
