package io.millrace.http;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The stage behind {@link HttpServerBuilder#staticFiles}: resolves the path's remainder inside the
 * root (traversal refused by {@link StaticFiles}), honours {@code If-Modified-Since}, and answers
 * with the open file, which the connection sends with sendfile and then closes.
 */
final class StaticFileStage
{
    private final StaticFiles files;
    private final boolean allowDotfiles;

    StaticFileStage(final StaticFiles files, final boolean allowDotfiles)
    {
        this.files = files;
        this.allowDotfiles = allowDotfiles;
    }

    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        // Hidden files (.git, .env) are 404 unless allowed, judged on the decoded path (%2eenv too).
        final StaticFiles.Resolution r = files.resolve(x.pathRemainder(), allowDotfiles);
        if (r.status() != 200)
        {
            return x.respondText(r.status(), r.status() == 404 ? "not found\n" : "refused\n");
        }
        final Path file = r.file();
        try
        {
            final long modified = Files.getLastModifiedTime(file).toMillis();
            final String lastModified = HttpDate.format(modified);
            final String ims = x.header("If-Modified-Since");
            if (ims != null)
            {
                final long since = HttpDate.parse(ims);
                if (since >= 0 && TimeUnit.MILLISECONDS.toSeconds(modified) <= TimeUnit.MILLISECONDS.toSeconds(since))
                {
                    x.header("Last-Modified", lastModified);
                    return x.respond(304, HeaderBlock.EMPTY);
                }
            }
            final FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
            final long size;
            try
            {
                size = channel.size();
            }
            catch (final IOException ex)
            {
                channel.close();
                throw ex;
            }
            x.header("Last-Modified", lastModified);
            return x.respondFile(200, HeaderBlock.contentType(StaticFiles.contentType(file)), channel, 0, size);
        }
        catch (final IOException ex)
        {
            return x.respondText(404, "not found\n");
        }
    }
}
