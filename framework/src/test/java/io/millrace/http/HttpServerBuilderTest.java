package io.millrace.http;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Misuse of the builder and of the response API fails fast, with a message that says what to do. */
class HttpServerBuilderTest
{
    @Test
    void badRoutesAreRefusedWithAMessage()
    {
        final HttpServerBuilder b = HttpServer.builder();
        final StageRef<HttpExchange> s = b.stage("s", (x, ctx) -> Outcome.done());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("get", "/a", s)).getMessage().contains("upper case"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("BREW", "/a", s)).getMessage().contains("unknown method"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("", "/a", s)).getMessage().contains("no method"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("GET", "a", s)).getMessage().contains("starts with '/'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("GET", "/a*b", s)).getMessage().contains("'*'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("GET", "/a b", s)).getMessage().contains("visible"));
        final StageRef<HttpExchange> foreign = HttpServer.builder().stage("f", (x, ctx) -> Outcome.done());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.route("GET", "/a", foreign)).getMessage()
            .contains("not declared on this builder"));
        assertThrows(IllegalArgumentException.class, () -> b.stage("s", (x, ctx) -> Outcome.done()), "names are unique");
        assertThrows(IllegalArgumentException.class, () -> b.staticFiles("files", java.nio.file.Path.of(".")));
    }

    @Test
    void badLimitsAreRefused()
    {
        final HttpServerBuilder b = HttpServer.builder();
        assertThrows(IllegalArgumentException.class, () -> b.workers(0));
        assertThrows(IllegalArgumentException.class, () -> b.maxConnections(0));
        assertThrows(IllegalArgumentException.class, () -> b.maxHeaderBytes(100));
        assertThrows(IllegalArgumentException.class, () -> b.maxBodyBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> b.bodyMemory(0));
        assertThrows(IllegalArgumentException.class, () -> b.requestTimeout(Duration.ZERO));
    }

    @Test
    void headerBlocksRefuseInjectionAndTheServersOwnFields()
    {
        assertThrows(IllegalArgumentException.class, () -> HeaderBlock.of("X-A", "1\r\nX-Injected: 2"));
        assertThrows(IllegalArgumentException.class, () -> HeaderBlock.of("X A", "1"));
        assertThrows(IllegalArgumentException.class, () -> HeaderBlock.of("X-A"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HeaderBlock.of("Content-Length", "5")).getMessage()
            .contains("written by the server"));
        assertThrows(IllegalArgumentException.class, () -> HeaderBlock.of("connection", "close"));
        assertEquals("X-A: 1\r\nX-B: 2\r\n", HeaderBlock.of("X-A", "1").and(HeaderBlock.of("X-B", "2")).toString());
    }
}
