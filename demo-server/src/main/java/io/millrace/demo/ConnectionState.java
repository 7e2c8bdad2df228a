package io.millrace.demo;

import io.millrace.http.HttpExchange;
import io.millrace.log.AppendListener;

/**
 * What the demo keeps per connection ({@link HttpExchange#attach}): the listener of a
 * {@code POST /log} append, the connection's pending /kv mutation, and room to format an offset.
 * Made once per connection, reused by its requests, so an append allocates none of this.
 *
 * <p>Threading: a connection has one request in the pipeline at a time, and this object goes with
 * it. The listener methods run on the thread acknowledging the append (the sync thread or the log's
 * owner) before the request is resumed, and the resume publishes the fields to the next stage. A
 * request's append is acknowledged before the next request of the connection can start, except
 * when the request was cancelled, which only happens when the client went away and its connection
 * closed: then no later request reads the fields.
 */
final class ConnectionState implements AppendListener
{
    long offset = -1;
    Throwable error;
    /** The /kv mutation this connection's request waits for, or null. */
    KvMutation mutation;
    /** A header value, reused. */
    final StringBuilder text = new StringBuilder(24);
    /** A response body of up to 20 digits and a newline, reused; copied out when the response is sent. */
    final byte[] digits = new byte[21];

    /** @return the exchange's state, attached on first use */
    static ConnectionState of(final HttpExchange x)
    {
        if (x.attachment() instanceof ConnectionState s)
        {
            return s;
        }
        final ConnectionState s = new ConnectionState();
        x.attach(s);
        return s;
    }

    /** Forgets the last append's result, before the next one. */
    void reset()
    {
        offset = -1;
        error = null;
    }

    @Override
    public void appended(final long at)
    {
        offset = at;
    }

    @Override
    public void appendFailed(final Throwable why)
    {
        error = why;
    }

    /** @return {@code value} in {@link #text}, for a header */
    CharSequence text(final long value)
    {
        text.setLength(0);
        return text.append(value);
    }

    /**
     * Writes {@code value} and a newline into {@link #digits}.
     *
     * @return the number of bytes
     */
    int digits(final long value)
    {
        long v = value;
        int at = digits.length - 1;
        digits[at] = '\n';
        do
        {
            digits[--at] = (byte)('0' + v % 10);
            v /= 10;
        }
        while (v > 0);
        final int length = digits.length - at;
        System.arraycopy(digits, at, digits, 0, length);
        return length;
    }
}
