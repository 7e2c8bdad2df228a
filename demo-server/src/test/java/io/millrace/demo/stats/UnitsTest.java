package io.millrace.demo.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class UnitsTest
{
    @Test
    void durationsKeepThreeFiguresAndAUnitThatKeepsThemSmall()
    {
        assertEquals("2.00 s", Units.duration(2_004_877_300L), "not 2,004,877.3 µs");
        assertEquals("850 ns", Units.duration(850));
        assertEquals("1.50 µs", Units.duration(1_500));
        assertEquals("12.3 µs", Units.duration(12_345));
        assertEquals("1.00 ms", Units.duration(999_700), "999.7 µs rounds into the next unit");
        assertEquals("45.4 ms", Units.duration(45_400_000));
        assertEquals("125 s", Units.duration(125e9), "minutes stay in seconds");
        assertEquals("0 ns", Units.duration(0));
        assertEquals("-", Units.duration(-1));
    }

    @Test
    void countsRatesBytesPercentagesAndRatios()
    {
        assertEquals("950", Units.count(950));
        assertEquals("12.3k", Units.count(12_345));
        assertEquals("1.00M", Units.count(999_999));
        assertEquals("2.53M", Units.count(2_530_000));
        assertEquals("11.4k/s", Units.rate(11_412.7));
        assertEquals("0/s", Units.rate(0));
        assertEquals("2.50/s", Units.rate(2.5));
        assertEquals("512 B", Units.bytes(512));
        assertEquals("16.0 KiB", Units.bytes(16_384));
        assertEquals("1.50 MiB", Units.bytes(1_572_864));
        assertEquals("64.0 MiB", Units.bytes(64L << 20));
        assertEquals("100%", Units.percent(1));
        assertEquals("0%", Units.percent(0));
        assertEquals("99.96%", Units.percent(0.9996));
        assertEquals("99.99%", Units.percent(0.999_999), "never rounded up to 100%");
        assertEquals("0.01%", Units.percent(0.000_001), "never rounded down to 0%");
        assertEquals("42.3%", Units.percent(0.4234));
        assertEquals("3.2x", Units.times(3.21));
        assertEquals("1,080x", Units.times(1_080.4));
    }
}
