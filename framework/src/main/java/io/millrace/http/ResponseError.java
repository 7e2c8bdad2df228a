package io.millrace.http;

/**
 * Why {@link HttpResponseParser} refused a response. Every one of them means the connection to the
 * upstream cannot be framed any further and must be closed; a proxy answers its client
 * {@code 502 Bad Gateway} if no byte of the response has gone to the client yet
 * ({@link HttpResponseParser#headComplete()} is false, or the proxy had not sent the head on), and
 * otherwise cuts the client's connection, since a response already under way cannot be turned
 * into an error. The parser's {@link HttpResponseParser#errorReason()} says more, for a log line.
 */
public enum ResponseError
{
    /**
     * The connection ended before any byte of a response (reported by
     * {@link HttpResponseParser#endOfInput()}). On a reused keep-alive connection this is most
     * likely the upstream closing it idle as the request went out, and the request may go again on
     * a fresh connection, if it is idempotent or the retry policy allows it: the upstream may still
     * have seen it.
     */
    CLOSED_BEFORE_RESPONSE,
    /** The connection ended inside a response head, or after an interim (1xx) response and before the final one. */
    TRUNCATED_HEAD,
    /** The connection ended inside a body framed by Content-Length or chunked coding: fewer bytes than promised. */
    TRUNCATED_BODY,
    /**
     * The status line is not {@code HTTP-version SP 3DIGIT [SP reason-phrase]}, its status is outside
     * 100 to 599, an empty line came where it should be, or an HTTP/1.0 response is a 1xx, which
     * HTTP/1.0 does not have.
     */
    MALFORMED_STATUS_LINE,
    /** A well-formed version other than HTTP/1.0 and HTTP/1.1 ({@code HTTP/2.0}, {@code HTTP/1.2}). */
    UNSUPPORTED_VERSION,
    /**
     * A field line that is not {@code token ":" OWS value OWS}: a bare CR or LF, obs-fold, whitespace
     * before the colon, a control byte other than HTAB.
     */
    MALFORMED_FIELD,
    /** The status line and field lines passed the parser's {@code maxHeaderBytes}. */
    HEAD_TOO_LARGE,
    /** A Content-Length that is not {@code 1*DIGIT} (a list included), or more than one Content-Length field. */
    INVALID_CONTENT_LENGTH,
    /**
     * A Transfer-Encoding with a Content-Length, more than one Transfer-Encoding field, one in an
     * HTTP/1.0 response, or one that is not exactly {@code chunked} (a coding list included).
     */
    INVALID_TRANSFER_ENCODING,
    /** Chunked framing broken: a bad chunk size, chunk data not followed by CRLF, bad or too long extensions, bad trailer fields. */
    MALFORMED_CHUNKED_BODY,
    /** The trailer section passed what the head left of {@code maxHeaderBytes}. */
    TRAILERS_TOO_LARGE,
    /** The body (declared or as it arrives) passes the parser's {@code maxBodyBytes}. */
    BODY_TOO_LARGE,
    /** More than {@link HttpResponseParser#MAX_INTERIM_RESPONSES} interim (1xx) responses before the final one. */
    TOO_MANY_INTERIM_RESPONSES
}
