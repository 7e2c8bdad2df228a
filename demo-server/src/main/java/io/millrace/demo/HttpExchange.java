package io.millrace.demo;

import io.millrace.http.HttpRequestParser;
import io.millrace.net.Connection;

import java.nio.channels.FileChannel;

/**
 * One HTTP connection's state, and the request object that travels through the pipeline. A
 * connection has at most one request in the pipeline at a time; pipelined requests wait, still
 * unparsed, in the connection's inbound chain, so responses leave in request order and one object
 * per connection is all the server allocates.
 *
 * <p>Threading: created and touched by the connection's worker; while {@link #inPipeline} is true the
 * pipeline carries it, possibly to a partition owner's worker, and the ring publishes hand the
 * fields over. The respond stage runs on the connection's worker again.
 */
final class HttpExchange
{
    /** Where a request goes after routing. */
    enum Route { NONE, HELLO, FILES, KV, METRICS, STATS, SLOW }

    final Connection connection;
    /** The connection's worker thread, where the exchange starts and ends every request. */
    final Thread ownerThread;
    final HttpRequestParser parser;

    /** Set once a response that closes the connection is queued: nothing after it is parsed. */
    boolean closing;

    /** True from submit until the response is queued. Owned by the connection's worker. */
    boolean inPipeline;
    /** True while the parser holds part of a request head or body (a read deadline is armed). */
    boolean partial;
    /** True while the parser holds a whole request whose fields (headers, body) are still in use. */
    boolean parsedWhole;

    // The parsed request, valid from parse to respond.
    String method;
    String path;
    String query;
    boolean keepAlive;
    Route route;
    String kvKey;
    int kvKeyHash;

    // The response, filled by a handler stage and sent by respond.
    int status;
    String contentType;
    byte[] body;
    int bodyLength;
    FileChannel file;
    long fileLength;
    String extraHeaders;
    boolean close;
    boolean headOnly;

    HttpExchange(final Connection connection, final Thread ownerThread, final int maxHeaderBytes, final int maxBodyBytes)
    {
        this.connection = connection;
        this.ownerThread = ownerThread;
        this.parser = new HttpRequestParser(maxHeaderBytes, maxBodyBytes);
    }

    /** Clears the request and response fields for the next request on this connection. */
    void clear()
    {
        method = null;
        path = null;
        query = null;
        keepAlive = false;
        route = Route.NONE;
        kvKey = null;
        kvKeyHash = 0;
        status = 0;
        contentType = null;
        body = null;
        bodyLength = 0;
        file = null;
        fileLength = 0;
        extraHeaders = null;
        close = false;
        headOnly = false;
    }

    /** Sets a response with a body. */
    void respond(final int statusCode, final String type, final byte[] bytes)
    {
        status = statusCode;
        contentType = type;
        body = bytes;
        bodyLength = bytes == null ? 0 : bytes.length;
    }

    int workerIndex()
    {
        return connection.workerIndex();
    }
}
