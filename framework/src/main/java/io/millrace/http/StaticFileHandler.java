package io.millrace.http;

/**
 * Answers a GET or HEAD for a static file from an {@link OpenFileCache}: conditional requests,
 * byte ranges and the header lines, into a reused {@link StaticFileResult}, allocating nothing when
 * the file is cached.
 *
 * <p>The order is RFC 9110 section 13.2.2's, for the fields handled here: {@code If-Modified-Since}
 * first (304 when the file is not newer, to the second), then {@code Range}. One range is served:
 * {@code bytes=a-b}, {@code bytes=a-} and {@code bytes=-n} give 206 with
 * {@code Content-Range: bytes a-b/size}; a range that starts past the end, or {@code bytes=-0}, gives
 * 416 with {@code Content-Range: bytes *}{@code /size}; several ranges, another unit or anything
 * malformed are ignored and the whole file goes out with 200, as section 14.2 allows. So is a
 * Range on an empty file, which no byte range can describe. {@code If-Range} is honoured only as
 * a date equal to the file's {@code Last-Modified}, character for character; anything else
 * (another date, an entity tag, since no ETag is sent) means "the file changed", and the Range is
 * ignored. 200 and 206 carry {@code Accept-Ranges: bytes}.
 *
 * <p>Not handled: {@code If-None-Match} and {@code If-Unmodified-Since} (no ETags are sent, so
 * clients have none to send back); the caller should ignore If-Modified-Since itself if the request
 * has If-None-Match, as section 13.1.3 requires. Range applies to GET only (section 14.2): for
 * HEAD, pass null as the range. Threading: the cache's, one handler per worker.
 */
public final class StaticFileHandler
{
    private static final byte[] ACCEPT_RANGES = "Accept-Ranges: bytes\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int LAST_MODIFIED_VALUE = "Last-Modified: ".length();

    private final OpenFileCache cache;

    /**
     * @param cache this worker's cache
     */
    public StaticFileHandler(final OpenFileCache cache)
    {
        this.cache = java.util.Objects.requireNonNull(cache, "cache");
    }

    /**
     * @return the cache behind this handler
     */
    public OpenFileCache cache()
    {
        return cache;
    }

    /**
     * Decides the answer to one request. Every argument but {@code rawPath} and {@code out} may be
     * null (field absent); none is kept after the call. First clears {@code out}, letting go of what
     * it still held.
     *
     * @param rawPath         the path after the static prefix, still percent-encoded, no query
     * @param ifModifiedSince the If-Modified-Since value, or null
     * @param range           the Range value, or null (always null for HEAD and other methods)
     * @param ifRange         the If-Range value, or null
     * @param out             receives the answer
     */
    public void handle(final CharSequence rawPath, final CharSequence ifModifiedSince, final CharSequence range,
        final CharSequence ifRange, final StaticFileResult out)
    {
        out.clear();
        final CachedFile e = cache.lookup(rawPath);
        if (e.status() != 200)
        {
            out.answer(e.status(), null);
            return;
        }
        final long size = e.size();
        if (ifModifiedSince != null && e.lastModifiedLine.length > 0)
        {
            final long since = Fixdate.parse(ifModifiedSince);
            if (since >= 0 && Math.floorDiv(e.lastModifiedMillis(), 1000) <= Math.floorDiv(since, 1000))
            {
                out.answer(304, e);
                out.append(e.lastModifiedLine);
                return;
            }
        }
        int ranged = RangeHeader.IGNORE;
        if (range != null && size > 0 && (ifRange == null || matchesLastModified(ifRange, e)))
        {
            ranged = RangeHeader.parse(range, size, out.range);
        }
        if (ranged == RangeHeader.UNSATISFIABLE)
        {
            out.answer(416, e);
            out.contentLength = 0;
            out.append("Content-Range: bytes */");
            out.append(size);
            out.append("\r\n");
            return;
        }
        out.append(e.contentTypeLine);
        out.append(e.lastModifiedLine);
        out.append(ACCEPT_RANGES);
        if (ranged == RangeHeader.SATISFIABLE)
        {
            final long first = out.range[0];
            final long last = out.range[1];
            out.answer(206, e);
            out.append("Content-Range: bytes ");
            out.append(first);
            out.append("-");
            out.append(last);
            out.append("/");
            out.append(size);
            out.append("\r\n");
            out.body(e, first, last - first + 1);
        }
        else
        {
            out.answer(200, e);
            out.body(e, 0, size);
        }
    }

    /**
     * Like {@link #handle(CharSequence, CharSequence, CharSequence, CharSequence, StaticFileResult)}
     * with the path given as bytes of a buffer, e.g. the request head.
     */
    public void handle(final byte[] bytes, final int pathOffset, final int pathLength, final CharSequence ifModifiedSince,
        final CharSequence range, final CharSequence ifRange, final StaticFileResult out)
    {
        handle(out.pathView.set(bytes, pathOffset, pathLength), ifModifiedSince, range, ifRange, out);
    }

    /** An exact match with the entry's Last-Modified date: the strong comparison section 13.1.5 asks for. */
    private static boolean matchesLastModified(final CharSequence ifRange, final CachedFile e)
    {
        final byte[] line = e.lastModifiedLine;
        final int length = line.length - LAST_MODIFIED_VALUE - 2;
        if (length <= 0 || ifRange.length() != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (ifRange.charAt(i) != line[LAST_MODIFIED_VALUE + i])
            {
                return false;
            }
        }
        return true;
    }
}
