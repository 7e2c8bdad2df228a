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
 * <p>Hidden files: unless {@code allowDotfiles} is on, a path with a segment that starts with
 * {@code .} ({@code .git/config}, {@code .env}, {@code a/.hidden/b}) is 404, and so is a file whose
 * real path under the root has such a segment (a link {@code config -> .env}). 404 rather than 403
 * because a 403 would confirm that the hidden file exists, which is exactly what a scanner probing
 * for {@code .git} or {@code .env} wants to learn; the request is refused before the file system is
 * asked, so the answer is the same whether or not the file exists. nginx users get the same from the
 * usual {@code location ~ /\. { return 404; }}. The {@code .} and {@code ..} segments stay 400 (they
 * are traversal, not names), and a malformed path is 400 even if it also has a hidden segment.
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
    private final boolean allowDotfiles;

    /**
     * Serves {@code root} with hidden files refused (404).
     *
     * @param root the directory to serve; symbolic links in it are resolved once, here
     * @throws IllegalArgumentException if it is not an existing directory
     */
    public StaticFiles(final Path root)
    {
        this(root, false);
    }

    /**
     * @param root          the directory to serve; symbolic links in it are resolved once, here
     * @param allowDotfiles whether to serve names that start with {@code .}; off by default because
     *                      a served tree is often a checkout with {@code .git} or {@code .env} in it
     * @throws IllegalArgumentException if it is not an existing directory
     */
    public StaticFiles(final Path root, final boolean allowDotfiles)
    {
        this.allowDotfiles = allowDotfiles;
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
     * @return whether names that start with {@code .} are served
     */
    public boolean allowsDotfiles()
    {
        return allowDotfiles;
    }

    /**
     * @param pathAfterPrefix the raw request path after {@code /files/}, without the query
     * @return the file to serve, or the status to refuse with
     */
    public Resolution resolve(final String pathAfterPrefix)
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
        boolean hidden = false;
        for (final String segment : segments)
        {
            if (segment.isEmpty() || segment.equals(".") || segment.equals(".."))
            {
                return BAD_REQUEST;
            }
            hidden |= segment.charAt(0) == '.';
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
        // After the loop, so that a malformed path is 400 whatever segment comes first.
        if (directory || hidden && !allowDotfiles)
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
        if (!allowDotfiles && hasHiddenName(root.relativize(real)))
        {
            return NOT_FOUND;
        }
        if (!Files.isRegularFile(real))
        {
            return NOT_FOUND;
        }
        return Files.isReadable(real) ? new Resolution(200, real) : FORBIDDEN;
    }

    private static boolean hasHiddenName(final Path relative)
    {
        for (final Path name : relative)
        {
            if (name.toString().startsWith("."))
            {
                return true;
            }
        }
        return false;
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
     * The media type a browser expects for a file, by its extension (case-insensitive), from the
     * IANA registry as nginx's and Apache's default tables use it: text types carry
     * {@code charset=utf-8}; fonts are {@code font/*} (RFC 8081); {@code .mjs} is JavaScript (a module
     * served as anything else is refused by browsers), {@code .wasm} is {@code application/wasm}
     * (which streaming compilation requires), {@code .md} is {@code text/markdown} (RFC 7763).
     *
     * @param file a file name or path
     * @return its media type by extension; {@code application/octet-stream} for anything unknown
     */
    public static String contentType(final Path file)
    {
        final Path name = file.getFileName();
        final String text = name == null ? "" : name.toString();
        final int dot = text.lastIndexOf('.');
        final String extension = dot < 0 ? "" : text.substring(dot + 1).toLowerCase(Locale.ROOT);
        return switch (extension)
        {
            // text
            case "html", "htm" -> "text/html; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "js", "mjs", "cjs" -> "text/javascript; charset=utf-8";
            case "txt", "text", "log" -> "text/plain; charset=utf-8";
            case "md", "markdown" -> "text/markdown; charset=utf-8";
            case "csv" -> "text/csv; charset=utf-8";
            case "tsv" -> "text/tab-separated-values; charset=utf-8";
            case "ics" -> "text/calendar; charset=utf-8";
            case "vtt" -> "text/vtt; charset=utf-8";
            // structured data
            case "json", "map" -> "application/json";
            case "jsonld" -> "application/ld+json";
            case "webmanifest" -> "application/manifest+json";
            case "xml" -> "application/xml; charset=utf-8";
            case "xhtml" -> "application/xhtml+xml; charset=utf-8";
            case "rss" -> "application/rss+xml; charset=utf-8";
            case "atom" -> "application/atom+xml; charset=utf-8";
            case "yaml", "yml" -> "application/yaml; charset=utf-8";
            case "wasm" -> "application/wasm";
            case "pdf" -> "application/pdf";
            // images
            case "svg" -> "image/svg+xml; charset=utf-8";
            case "png" -> "image/png";
            case "apng" -> "image/apng";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "webp" -> "image/webp";
            case "avif" -> "image/avif";
            case "bmp" -> "image/bmp";
            case "tif", "tiff" -> "image/tiff";
            case "ico" -> "image/x-icon";
            // fonts
            case "woff" -> "font/woff";
            case "woff2" -> "font/woff2";
            case "ttf" -> "font/ttf";
            case "otf" -> "font/otf";
            // audio and video
            case "mp3" -> "audio/mpeg";
            case "ogg", "oga", "opus" -> "audio/ogg";
            case "wav" -> "audio/wav";
            case "flac" -> "audio/flac";
            case "m4a" -> "audio/mp4";
            case "mp4", "m4v" -> "video/mp4";
            case "webm" -> "video/webm";
            case "ogv" -> "video/ogg";
            // archives
            case "zip" -> "application/zip";
            case "gz", "tgz" -> "application/gzip";
            case "tar" -> "application/x-tar";
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
