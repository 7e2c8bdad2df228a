package io.millrace.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Maps the path of a {@code /files/...} request to a regular file under one root directory,
 * refusing everything that could reach outside it.
 *
 * <p>The argument is the raw path after the prefix, still percent-encoded. It is refused with 400
 * when it is malformed or could mean something other than a plain descent from the root:
 * malformed percent-encoding or UTF-8; an encoded {@code /} ({@code %2F}) or NUL ({@code %00}); a
 * backslash, raw or encoded; any control character; an empty segment (so no absolute path and no
 * {@code //}); a {@code .} or {@code ..} segment, raw or after decoding ({@code %2e%2E}). A path
 * ending in {@code /} names a directory (404). Then the file system decides. Symbolic links whose
 * real target is inside the root are followed; a path through a link that leads out is 403,
 * wherever on the path the link is and even if the path comes back in further on. A missing file,
 * a dangling link, a directory or anything else that is not a regular file is 404; an unreadable
 * file is 403.
 *
 * <p>{@link Resolution#file()} is the real path (no links left in it) at the time of the call;
 * if the tree can change under the server, open it with {@code LinkOption.NOFOLLOW_LINKS}. Thread-safe.
 */
public final class StaticFiles
{
    /**
     * What a request path resolved to.
     *
     * @param status 200, 400, 403 or 404
     * @param file   the real path of a regular, readable file under the root for 200; null otherwise
     */
    public record Resolution(int status, Path file)
    {
    }

    private static final Resolution BAD_REQUEST = new Resolution(400, null);
    private static final Resolution FORBIDDEN = new Resolution(403, null);
    private static final Resolution NOT_FOUND = new Resolution(404, null);

    private final Path root;

    /**
     * @param root the directory to serve; symbolic links in it are resolved once, here
     * @throws IllegalArgumentException if it is not an existing directory
     */
    public StaticFiles(final Path root)
    {
        final Path real;
        try
        {
            real = root.toRealPath();
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException("static files root '" + root.toAbsolutePath() +
                "' does not exist or cannot be read (" + e + "); create it or pass another directory", e);
        }
        if (!Files.isDirectory(real))
        {
            throw new IllegalArgumentException("static files root '" + root.toAbsolutePath() + "' is not a directory");
        }
        this.root = real;
    }

    /**
     * @return the root directory, real path
     */
    public Path root()
    {
        return root;
    }

    /**
     * @param pathAfterPrefix the raw request path after {@code /files/}, without the query
     * @return the file to serve, or the status to refuse with
     */
    public Resolution resolve(final String pathAfterPrefix)
    {
        return resolve(pathAfterPrefix, true);
    }

    /**
     * @param pathAfterPrefix the raw request path after {@code /files/}, without the query
     * @param allowDotfiles   false to answer 404 for a path with a segment whose name starts with
     *                        '.' ({@code .git}, {@code .env}), judged after percent-decoding so that
     *                        {@code %2eenv} is hidden too
     * @return the file to serve, or the status to refuse with
     */
    public Resolution resolve(final String pathAfterPrefix, final boolean allowDotfiles)
    {
        final String decoded = pathAfterPrefix == null ? null : decode(pathAfterPrefix);
        if (decoded == null)
        {
            return BAD_REQUEST;
        }
        Path candidate = root;
        final boolean directory = decoded.isEmpty() || decoded.endsWith("/");
        final String[] segments = decoded.isEmpty() ? new String[0]
            : (directory ? decoded.substring(0, decoded.length() - 1) : decoded).split("/", -1);
        for (final String segment : segments)
        {
            if (segment.isEmpty() || segment.equals(".") || segment.equals(".."))
            {
                return BAD_REQUEST;
            }
            if (!allowDotfiles && segment.charAt(0) == '.')
            {
                return NOT_FOUND; // hidden, as if absent: nginx's usual "location ~ /\\." rule
            }
            try
            {
                candidate = candidate.resolve(segment);
            }
            catch (final InvalidPathException e)
            {
                // A name the platform cannot represent, e.g. non-ASCII under a POSIX locale.
                return BAD_REQUEST;
            }
        }
        // Cannot happen after the checks above; kept so that a future edit to them cannot open a hole.
        if (!candidate.normalize().startsWith(root))
        {
            return BAD_REQUEST;
        }
        if (directory)
        {
            return NOT_FOUND;
        }
        final Path real;
        try
        {
            final int status = checkLinks(candidate);
            if (status != 200)
            {
                return status == 403 ? FORBIDDEN : NOT_FOUND;
            }
            real = candidate.toRealPath();
        }
        catch (final NoSuchFileException e)
        {
            return NOT_FOUND;
        }
        catch (final AccessDeniedException e)
        {
            return FORBIDDEN;
        }
        catch (final IOException e)
        {
            return NOT_FOUND;
        }
        if (!real.startsWith(root))
        {
            return FORBIDDEN;
        }
        if (!Files.isRegularFile(real))
        {
            return NOT_FOUND;
        }
        return Files.isReadable(real) ? new Resolution(200, real) : FORBIDDEN;
    }

    /**
     * Checks each symbolic link on the way from the root to {@code candidate}: one that leads out of
     * the root is refused even if the path comes back in later, so that what is served never
     * depends on a part of the file system outside the root.
     *
     * @return 200 if every link on the path stays inside, 403 if one leads out, 404 if one dangles
     */
    private int checkLinks(final Path candidate) throws IOException
    {
        Path step = root;
        for (final Path name : root.relativize(candidate))
        {
            step = step.resolve(name);
            if (Files.isSymbolicLink(step))
            {
                if (!Files.exists(step))
                {
                    return 404;
                }
                if (!step.toRealPath().startsWith(root))
                {
                    return 403;
                }
            }
            else if (!Files.exists(step, LinkOption.NOFOLLOW_LINKS))
            {
                return 404;
            }
        }
        return 200;
    }

    /**
     * @param file a file name or path
     * @return its media type by extension; text types with {@code charset=utf-8};
     *         {@code application/octet-stream} for anything unknown
     */
    public static String contentType(final Path file)
    {
        final Path name = file.getFileName();
        final String text = name == null ? "" : name.toString();
        final int dot = text.lastIndexOf('.');
        final String extension = dot < 0 ? "" : text.substring(dot + 1).toLowerCase(Locale.ROOT);
        return switch (extension)
        {
            case "html", "htm" -> "text/html; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "js", "mjs" -> "text/javascript; charset=utf-8";
            case "json" -> "application/json";
            case "txt" -> "text/plain; charset=utf-8";
            case "xml" -> "application/xml; charset=utf-8";
            case "svg" -> "image/svg+xml; charset=utf-8";
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "ico" -> "image/x-icon";
            case "pdf" -> "application/pdf";
            case "wasm" -> "application/wasm";
            default -> "application/octet-stream";
        };
    }

    /**
     * Percent-decodes a path as UTF-8.
     *
     * @return the decoded path, or null if it is malformed or holds a byte no file name here may have
     */
    private static String decode(final String raw)
    {
        final byte[] bytes = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++)
        {
            final char c = raw.charAt(i);
            int b;
            if (c == '%')
            {
                if (i + 2 >= raw.length())
                {
                    return null;
                }
                final int hi = Character.digit(raw.charAt(i + 1), 16);
                final int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0 || raw.charAt(i + 1) > 'f' || raw.charAt(i + 2) > 'f')
                {
                    return null;
                }
                b = hi << 4 | lo;
                // An encoded slash would make one segment two after decoding.
                if (b == '/')
                {
                    return null;
                }
                i += 2;
            }
            else if (c > 0x7E)
            {
                return null;
            }
            else
            {
                b = c;
            }
            if (b < 0x20 || b == 0x7F || b == '\\')
            {
                return null;
            }
            bytes[n++] = (byte)b;
        }
        try
        {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes, 0, n))
                .toString();
        }
        catch (final CharacterCodingException e)
        {
            return null;
        }
    }
}
