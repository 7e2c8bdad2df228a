package io.millrace.demo.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpositionGrammarTest
{
    private static final String GOOD = """
        # A free comment
        # HELP app_requests_total Requests, with a \\\\ and a \\n in the help.
        # TYPE app_requests_total counter
        app_requests_total{path="/a\\"b\\\\c\\nd",code="200"} 12
        app_requests_total{path="/",code="500",} 0 1700000000000
        # TYPE app_temperature gauge
        app_temperature -3.5e2
        app_temperature{room="b"} NaN
        app_temperature{room="c"} +Inf
        # HELP app_latency_seconds Latency.
        # TYPE app_latency_seconds histogram
        app_latency_seconds_bucket{le="0.1"} 1
        app_latency_seconds_bucket{le="1"} 3
        app_latency_seconds_bucket{le="+Inf"} 4
        app_latency_seconds_sum 2.5
        app_latency_seconds_count 4
        app_latency_seconds_bucket{op="x",le="1"} 0
        app_latency_seconds_bucket{op="x",le="+Inf"} 0
        app_latency_seconds_sum{op="x"} 0
        app_latency_seconds_count{op="x"} 0
        # TYPE app_rpc summary
        app_rpc{quantile="0.5"} 0.1
        app_rpc{quantile="0.99"} 0.3
        app_rpc_sum 3
        app_rpc_count 7
        app_rpc{op="idle",quantile="0.5"} NaN
        app_rpc{op="idle",quantile="0.9"} NaN
        app_rpc_sum{op="idle"} 0
        app_rpc_count{op="idle"} 0
        """;

    @Test
    void acceptsAValidExposition()
    {
        ExpositionGrammar.assertValid(GOOD);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "# TYPE a gauge\na 1",
        "# TYPE a gauge\n\na 1\n",
        "# TYPE a gauge\na 1 \n",
        "# TYPE 1a gauge\n1a 1\n",
        "# TYPE a-b gauge\na-b 1\n",
        "a 1\n",
        "# TYPE a gauge\n# TYPE a gauge\na 1\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n",
        "# TYPE a gauge\na 1\n# HELP a again after it\n# TYPE b gauge\nb 1\n",
        "# HELP a one\n# HELP a two\n# TYPE a gauge\na 1\n",
        "# TYPE a frequency\na 1\n",
        "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",
        "# TYPE a gauge\na{x=\"bad\\escape\"} 1\n",
        "# TYPE a gauge\na{x=\"unterminated} 1\n",
        "# TYPE a gauge\na{x=1} 1\n",
        "# TYPE a gauge\na{1x=\"1\"} 1\n",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
        "# TYPE a gauge\na 1,5\n",
        "# TYPE a gauge\na one\n",
        "# TYPE a gauge\na 1 2.5\n",
        "# TYPE a gauge\na\n",
        "# TYPE a counter\na 1\n",
        "# TYPE a_total counter\na_total -1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 2\nh_sum 1\nh_count 2\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 2\n",
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n",
        "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"5\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n",
        "# TYPE s summary\ns{quantile=\"1.5\"} 1\ns_sum 1\ns_count 1\n",
        "# TYPE s summary\ns{quantile=\"0.9\"} 1\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n",
        "# TYPE s summary\ns{quantile=\"0.5\"} 2\ns{quantile=\"0.9\"} 1\ns_sum 1\ns_count 1\n",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\n",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count{quantile=\"0.5\"} 1\n",
    })
    void refusesInvalidExpositions(final String text)
    {
        final AssertionError error = assertThrows(AssertionError.class, () -> ExpositionGrammar.assertValid(text));
        assertTrue(error.getMessage().startsWith("line ") || error.getMessage().startsWith("empty") ||
            error.getMessage().contains("newline"), error.getMessage());
    }

    @Test
    void namesTheOffendingLine()
    {
        final AssertionError error = assertThrows(AssertionError.class,
            () -> ExpositionGrammar.assertValid("# TYPE a gauge\na 1\nb{ 2\n"));
        assertTrue(error.getMessage().startsWith("line 3:"), error.getMessage());
        assertTrue(error.getMessage().endsWith("b{ 2"), error.getMessage());
    }
}
