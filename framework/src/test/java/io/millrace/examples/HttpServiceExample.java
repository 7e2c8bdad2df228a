package io.millrace.examples;

import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.http.HttpServerBuilder;
import io.millrace.stage.Placement;
import java.util.HashMap;
import java.util.stream.Stream;

public final class HttpServiceExample {
    static final HeaderBlock BYTES = HeaderBlock.contentType("application/octet-stream"); // encoded once
    static final byte[] HELLO = "Hello, World!\n".getBytes();

    public static HttpServer start(HttpServerBuilder b) {
        var kv = Stream.generate(HashMap<String, byte[]>::new).limit(64).toList(); // a map per partition
        b.route("GET", "/hello", b.stage("hello", (x, ctx) -> x.respond(200, HeaderBlock.TEXT_PLAIN, HELLO)));
        b.route("GET, PUT", "/kv/*", b.stage("kv", Placement.partitioned(64, HttpExchange::routeKeyHash), (x, ctx) -> {
            var map = kv.get(ctx.partition());          // one owner thread per partition: no lock
            if (x.method().equals("PUT")) map.put(x.pathRemainder(), x.bodyBytes());
            byte[] value = map.get(x.pathRemainder());
            return value == null ? x.respondText(404, "no such key\n") : x.respond(200, BYTES, value);
        }));
        b.route("GET", "/slow", b.stage("slow", Placement.blocking(4), (x, ctx) -> {
            Thread.sleep(50);                           // blocking: at most 4 threads wait here
            return x.respondText(200, "slept 50 ms\n");
        }));
        return b.start();
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("listening on " + start(HttpServer.builder()).address());   // 127.0.0.1:8080
        Thread.currentThread().join();              // the workers are daemon threads
    }
}
