package io.millrace.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The allocation-free IMF-fixdate parser agrees with {@link HttpDate#parse(String)}. */
class FixdateTest
{
    @Test
    void agreesWithHttpDateOnRandomInstants()
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 20_000; i++)
        {
            final long seconds = random.nextLong(-62_167_219_200L, 253_402_300_800L);
            final String text = HttpDate.format(seconds * 1000);
            assertEquals(seconds * 1000, Fixdate.parse(text), text);
            assertEquals(HttpDate.parse(text), Fixdate.parse(new AsciiView().set(text.getBytes(), 0, 29)), text);
        }
        assertEquals(784_111_777_000L, Fixdate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(HttpDate.parse("Sat, 31 Dec 2016 23:59:60 GMT"), Fixdate.parse("Sat, 31 Dec 2016 23:59:60 GMT"));
        assertEquals(HttpDate.parse("Tue, 29 Feb 2000 00:00:00 GMT"), Fixdate.parse("Tue, 29 Feb 2000 00:00:00 GMT"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "Sun, 06 Nov 1994 08:49:37 GM", "Sun, 06 Nov 1994 08:49:37 GMTX", "Mon, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT", "Sun,  6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT", "Sun, 06 Nov 1994 08:49:61 GMT", "Thu, 29 Feb 2001 00:00:00 GMT",
        "Mon, 29 Feb 1900 00:00:00 GMT", "Sat, 00 Jan 2000 00:00:00 GMT", "Mon, 31 Apr 2000 00:00:00 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun; 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT, x",
    })
    void refusesWhatHttpDateRefuses(final String text)
    {
        assertEquals(-1, Fixdate.parse(text), text);
        assertEquals(HttpDate.parse(text), Fixdate.parse(text), text);
    }

    @Test
    void refusesNull()
    {
        assertEquals(-1, Fixdate.parse(null));
    }
}
