package io.millrace.demo;

import io.millrace.demo.http.ExpositionGrammar;
import io.millrace.metrics.WorkerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The allocation counters on /metrics: one series per pipeline thread and the JVM's total, growing. */
class JvmTextTest
{
    private static final Pattern JVM = Pattern.compile("(?m)^millrace_jvm_allocated_bytes_total (\\d+)$");

    @TempDir
    Path root;

    private DemoServerFixture server;

    @AfterEach
    void stop()
    {
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void everyPipelineThreadHasACountAndTheCountsGrow() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            final String first = scrape(raw);
            ExpositionGrammar.assertValid(first);
            for (final String thread : new String[] {"http-worker-0", "http-worker-1", "http-blocking-slow-0", "http-blocking-slow-1"})
            {
                assertTrue(first.contains("millrace_thread_allocated_bytes_total{thread=\"" + thread + "\"} "), thread + " is counted");
            }
            assertFalse(first.contains("thread=\"main\""), "threads outside the pipeline are not listed one by one");
            final String second = scrape(raw);
            // Both scrapes ran on the connection's worker; the first one's response and the second's
            // rendering allocated in between, so its count and the JVM's grew.
            assertTrue(value(JVM, second) > value(JVM, first), "the JVM's count grows");
            final String worker = serving();
            final Pattern p = Pattern.compile("(?m)^millrace_thread_allocated_bytes_total\\{thread=\"" + worker + "\"} (\\d+)$");
            assertTrue(value(p, second) > value(p, first), "the serving worker's count grows");
        }
    }

    /** With one connection, one worker served every request. */
    private String serving()
    {
        for (final WorkerMetrics w : server.service.pipeline().metrics().workers())
        {
            if (w.completed() > 0)
            {
                return w.threadName();
            }
        }
        throw new AssertionError("no worker completed a request");
    }

    private static String scrape(final RawHttp raw) throws Exception
    {
        raw.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
        final RawHttp.Response r = raw.read();
        assertEquals(200, r.status());
        return r.text();
    }

    private static long value(final Pattern p, final String text)
    {
        final Matcher m = p.matcher(text);
        assertTrue(m.find(), p + " in the scrape");
        return Long.parseLong(m.group(1));
    }
}
