package io.millrace.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes {@link HttpResponseParser} with Jazzer, as {@link HttpRequestParserFuzzTest} fuzzes the
 * request side: without {@code JAZZER_FUZZ} the target runs once per file of its seed corpus
 * ({@code src/test/resources/io/millrace/http/HttpResponseParserFuzzTestInputs/parser/}); with
 * {@code JAZZER_FUZZ=1} it fuzzes (see docs/testing.md).
 *
 * <p>An input is one plan byte followed by the bytes an upstream sends. The plan byte's two low
 * bits pick the parser's limits ({@code '@'} the defaults, {@code 'A'} 64-byte heads and no body,
 * {@code 'B'} 128/16, {@code 'C'} 512/300), bits 2 and 3 the method of the requests the responses
 * answer (GET, HEAD, CONNECT, POST: {@code '@'}, {@code 'D'}, {@code 'H'}, {@code 'L'}), bit 4
 * whether the connection ends after the input ({@code endOfInput()}), and bits 5 to 7 the largest
 * piece the input is split into. So a seed is a response with one printable character in front.
 *
 * <p>The stream is parsed as a client connection would ({@link ResponseHarness#parse}): response
 * after response while the connection may carry another, checking the parser's contract at every
 * call (positions, body parts summing to {@code bodyReceived()} and to the Content-Length, statuses
 * of interim and final heads, no keep-alive after a tunnel, a close-delimited body or an error,
 * verdicts that stay). What it reports must not depend on how the bytes were split: whole, one
 * byte at a time, or in the plan's pieces.
 */
class HttpResponseParserFuzzTest
{
    /** {maxHeaderBytes, maxBodyBytes} for each value of the plan's two low bits. */
    private static final long[][] LIMITS = {
        {HttpResponseParser.DEFAULT_MAX_HEADER_BYTES, HttpResponseParser.DEFAULT_MAX_BODY_BYTES},
        {64, 0},
        {128, 16},
        {512, 300},
    };
    private static final String[] METHODS = {"GET", "HEAD", "CONNECT", "POST"};
    private static final int[] BOUNDS = {1, 2, 3, 5, 8, 16, 64, 512};
    /** Inputs longer than this are cut: the fuzzer's own are far shorter; this bounds a hand-made seed's cost. */
    private static final int MAX_STREAM = 1 << 16;

    @FuzzTest(maxDuration = "10s")
    void parser(final byte[] input)
    {
        if (input == null || input.length == 0)
        {
            return;
        }
        final int plan = input[0] & 0xFF;
        final byte[] stream = Arrays.copyOfRange(input, 1, Math.min(input.length, 1 + MAX_STREAM));
        final long[] limits = LIMITS[plan & 3];
        final String method = METHODS[(plan >>> 2) & 3];
        final boolean eof = (plan & 16) != 0;
        final int bound = BOUNDS[(plan >>> 5) & 7];

        final List<String> whole = parse(limits, method, stream, ResponseHarness.whole(stream.length), eof);
        assertEquals(whole, parse(limits, method, stream, ResponseHarness.oneByteEach(stream.length), eof), "fed one byte at a time");
        assertEquals(whole, parse(limits, method, stream,
            ResponseHarness.randomPieces(plan * 0x9E3779B97F4A7C15L + stream.length, bound, stream.length), eof),
            "fed in the plan's pieces");
    }

    private static List<String> parse(final long[] limits, final String method, final byte[] stream, final int[] pieces,
        final boolean eof)
    {
        return ResponseHarness.parse(new HttpResponseParser((int)limits[0], limits[1]), method, stream, pieces, eof);
    }
}
