package io.millrace.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Single byte ranges of a 1000-byte representation, RFC 9110 section 14. */
class RangeHeaderTest
{
    private static final long SIZE = 1000;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes=0-0          | 0   | 0",
        "bytes=0-499        | 0   | 499",
        "bytes=500-999      | 500 | 999",
        "bytes=500-         | 500 | 999",
        "bytes=999-         | 999 | 999",
        "bytes=500-5000     | 500 | 999",
        "bytes=0-99999999999999999999999 | 0 | 999",
        "bytes=-1           | 999 | 999",
        "bytes=-500         | 500 | 999",
        "bytes=-1000        | 0   | 999",
        "bytes=-5000        | 0   | 999",
        "bytes=-99999999999999999999999 | 0 | 999",
        "BYTES=1-2          | 1   | 2",
        "Bytes=1-2          | 1   | 2",
        "'  bytes=1-2  '    | 1   | 2",
        "bytes=007-008      | 7   | 8",
    })
    void servesOneRange(final String value, final long first, final long last)
    {
        final long[] out = new long[2];
        assertEquals(RangeHeader.SATISFIABLE, RangeHeader.parse(value, SIZE, out), value);
        assertEquals(first, out[0], value);
        assertEquals(last, out[1], value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=1000-", "bytes=1000-1001", "bytes=5000-6000", "bytes=-0", "bytes=-000",
        "bytes=99999999999999999999999-"})
    void refusesRangesThatStartPastTheEnd(final String value)
    {
        assertEquals(RangeHeader.UNSATISFIABLE, RangeHeader.parse(value, SIZE, new long[2]), value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bytes=", "bytes=-", "bytes=a-b", "bytes=1-a", "bytes=--1", "bytes=1--2", "bytes=5-4",
        "bytes=0-1,5-6", "bytes=0-1, 5-6", "bytes=0-1,", "bytes=,0-1", "bytes = 0-1", "bytes =0-1", "bytes= 0-1",
        "bytes=0 -1", "bytes=0- 1", "items=0-1", "byte=0-1", "bytesx=0-1", "0-1", "bytes=+1-2", "bytes=1-2;",
        "bytes=\u0661-2", "bytes=1-\u0662"})
    void ignoresSeveralOrMalformedRanges(final String value)
    {
        assertEquals(RangeHeader.IGNORE, RangeHeader.parse(value, SIZE, new long[2]), value);
    }
}
