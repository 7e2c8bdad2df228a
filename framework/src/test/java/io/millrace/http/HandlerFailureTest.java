package io.millrace.http;

import io.millrace.memory.LeakDetector;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Handlers that fail: one that throws, one that returns {@link Outcome#done()} without a response,
 * one that throws an {@link AssertionError}, inline and on other placements. Each request gets a
 * 500, the connection stays usable (the failure was the handler's, not the stream's), and the
 * server keeps serving on every worker.
 */
@Timeout(60)
class HandlerFailureTest
{
    private static final List<String> FAILING = List.of("/throw", "/done", "/error", "/throw-blocking", "/error-partitioned",
        "/done-blocking");

    private final LeakDetector leaks = LeakDetector.paranoid();
    private HttpServer server;

    @BeforeEach
    void start()
    {
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks);
        final StageRef<HttpExchange> throwing = b.stage("throw", (x, ctx) ->
        {
            throw new IllegalStateException("a handler that throws (on purpose, in a test)");
        });
        final StageRef<HttpExchange> done = b.stage("done", (x, ctx) -> Outcome.done());
        final StageRef<HttpExchange> error = b.stage("error", (x, ctx) ->
        {
            throw new AssertionError("a handler that throws an Error (on purpose, in a test)");
        });
        final StageRef<HttpExchange> throwingBlocking = b.stage("throw-blocking", Placement.blocking(1), (x, ctx) ->
        {
            throw new IllegalStateException("a blocking handler that throws (on purpose, in a test)");
        });
        final StageRef<HttpExchange> errorPartitioned = b.stage("error-partitioned",
            Placement.partitioned(HttpExchange::routeKeyHash), (x, ctx) ->
            {
                throw new AssertionError("a partitioned handler that throws an Error (on purpose, in a test)");
            });
        final StageRef<HttpExchange> doneBlocking = b.stage("done-blocking", Placement.blocking(1), (x, ctx) -> Outcome.done());
        final StageRef<HttpExchange> who = b.stage("who", (x, ctx) -> x.respondText(200, x.workerIndex() + "\n"));
        b.route("GET", "/throw", throwing).route("GET", "/done", done).route("GET", "/error", error)
            .route("GET", "/throw-blocking", throwingBlocking).route("GET", "/error-partitioned", errorPartitioned)
            .route("GET", "/done-blocking", doneBlocking).route("GET", "/who", who);
        server = b.start();
    }

    @AfterEach
    void everyBufferIsBack()
    {
        server.shutdown(Duration.ofSeconds(10));
        assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
        assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    @Test
    void eachFailureIsA500AndEveryWorkerGoesOnServing() throws Exception
    {
        final Set<Integer> workers = new HashSet<>();
        int failures = 0;
        for (int i = 0; i < 64 && workers.size() < 2; i++)
        {
            try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
            {
                for (final String path : FAILING)
                {
                    raw.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                    final RawHttpClient.Response r = raw.read();
                    assertEquals(500, r.status(), path + ": " + r.text());
                    failures++;
                }
                // The same connection, on the same worker, after all of them:
                raw.send("GET /who HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttpClient.Response r = raw.read();
                assertEquals(200, r.status(), "the connection is still served after six 500s");
                workers.add(Integer.parseInt(r.text().trim()));
            }
        }
        assertEquals(Set.of(0, 1), workers, "failures on every worker, and every worker went on");
        assertEquals(failures, server.stats().handlerErrors(), "each failure counted once");
        assertNull(server.pipeline().failure(), "an AssertionError is contained: the pipeline did not fail");
    }

    @Test
    void failuresPipelinedBetweenGoodRequestsAreAnsweredInOrder() throws Exception
    {
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            final StringBuilder all = new StringBuilder();
            for (final String path : FAILING)
            {
                all.append("GET /who HTTP/1.1\r\nHost: t\r\n\r\n").append("GET ").append(path).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            all.append("GET /who HTTP/1.1\r\nHost: t\r\n\r\n");
            raw.send(all.toString());
            for (final String path : FAILING)
            {
                assertEquals(200, raw.read().status(), "/who before " + path);
                assertEquals(500, raw.read().status(), path);
            }
            assertEquals(200, raw.read().status(), "the last /who");
        }
    }
}
