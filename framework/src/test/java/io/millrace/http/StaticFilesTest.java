package io.millrace.http;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A served tree under {@code temp/root} with a secret next to it in {@code temp/secret.txt} and links
 * that lead out of the root, to the secret file and to the directory that holds it.
 */
class StaticFilesTest
{
    @TempDir
    Path temp;

    private Path root;
    private StaticFiles files;

    @BeforeEach
    void tree() throws IOException
    {
        root = Files.createDirectory(temp.resolve("root"));
        Files.writeString(temp.resolve("secret.txt"), "secret");
        Files.writeString(root.resolve("index.html"), "<h1>hi</h1>");
        Files.createDirectories(root.resolve("docs/sub"));
        Files.writeString(root.resolve("docs/a b.txt"), "space");
        Files.writeString(root.resolve("docs/sub/deep.css"), "p{}");
        Files.writeString(root.resolve("docs/caf\u00e9.txt"), "accent");
        Files.createSymbolicLink(root.resolve("out.txt"), temp.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("outdir"), temp);
        Files.createSymbolicLink(root.resolve("docs/up"), Path.of(".."));
        Files.createSymbolicLink(root.resolve("docs/relative-out.txt"), Path.of("../../secret.txt"));
        Files.createSymbolicLink(root.resolve("inside.html"), root.resolve("index.html"));
        Files.createSymbolicLink(root.resolve("dangling.txt"), temp.resolve("missing.txt"));
        files = new StaticFiles(root);
    }

    @Test
    void servesRegularFilesUnderTheRoot() throws IOException
    {
        assertServes("index.html", root.resolve("index.html"));
        assertServes("docs/a%20b.txt", root.resolve("docs/a b.txt"));
        assertServes("docs/sub/deep.css", root.resolve("docs/sub/deep.css"));
        assertServes("docs/caf%C3%A9.txt", root.resolve("docs/caf\u00e9.txt"));
        assertServes("%64ocs/sub/deep.css", root.resolve("docs/sub/deep.css"));
        assertEquals("<h1>hi</h1>", Files.readString(files.resolve("index.html").file(), StandardCharsets.UTF_8));
    }

    @Test
    void followsLinksThatStayInside() throws IOException
    {
        assertServes("inside.html", root.resolve("index.html"));
        // docs/up -> .. is the root itself, so docs/up/index.html is inside.
        assertServes("docs/up/index.html", root.resolve("index.html"));
    }

    @Test
    void dotfilesAreHiddenUnlessAllowedEvenPercentEncoded() throws IOException
    {
        Files.writeString(root.resolve(".env"), "PASSWORD=x");
        Files.createDirectories(root.resolve("docs/.git"));
        Files.writeString(root.resolve("docs/.git/config"), "[core]");
        for (final String raw : new String[] {".env", "%2eenv", "%2Eenv", "docs/.git/config", "docs/%2egit/config"})
        {
            assertEquals(404, new StaticFiles(root, false).resolve(raw).status(), raw);
            assertEquals(200, new StaticFiles(root, true).resolve(raw).status(), raw);
        }
        assertEquals(200, new StaticFiles(root, false).resolve("docs/a%20b.txt").status(), "a name with a dot inside is not hidden");
        assertEquals(400, new StaticFiles(root, false).resolve("%2e%2e/secret.txt").status(), "traversal stays a 400");
    }

    private void assertServes(final String raw, final Path expected) throws IOException
    {
        final StaticFiles.Resolution r = files.resolve(raw);
        assertEquals(200, r.status(), raw);
        assertEquals(expected.toRealPath(), r.file(), raw);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "..", "../secret.txt", "docs/../../secret.txt", "docs/..", "./index.html", "docs/./a%20b.txt", ".",
        "%2e%2e/secret.txt", "%2E%2e/secret.txt", "%2e%2E/secret.txt", "%2E%2E/secret.txt", ".%2e/secret.txt",
        "%2e./secret.txt", "docs/%2e%2e/%2e%2e/secret.txt", "%2e/index.html",
        "..%2fsecret.txt", "..%2Fsecret.txt", "docs%2f..%2f..%2fsecret.txt", "%2fetc/passwd",
        "..\\secret.txt", "docs\\..\\..\\secret.txt", "..%5csecret.txt", "..%5Csecret.txt", "%5c",
        "index.html%00", "index.html%00.png", "%00", "index.html\u0000",
        "/etc/passwd", "//etc/passwd", "docs//a%20b.txt", "docs/sub//deep.css",
        "%", "%2", "%zz", "%g0", "index%2.html", "%%32%65", "%\u0661\u0661",
        "%C3", "%C3%28", "%FF", "%C0%AE%C0%AE/secret.txt", "%E0%80%AE",
        "index.html\r\n", "a\tb", "%0d%0a", "%7f", "caf\u00e9.txt",
        "..%252fsecret.txt/..",
    })
    void refusesTraversalAndMalformedPathsWith400(final String raw)
    {
        final StaticFiles.Resolution r = files.resolve(raw);
        assertEquals(400, r.status(), raw);
        assertNull(r.file());
    }

    @Test
    void refusesNull()
    {
        assertEquals(400, files.resolve(null).status());
    }

    @Test
    void neverServesALinkThatLeadsOut()
    {
        for (final String raw : new String[] {"out.txt", "outdir/secret.txt", "outdir/root/index.html",
            "docs/relative-out.txt", "docs/up/out.txt", "docs/up/outdir/secret.txt"})
        {
            final StaticFiles.Resolution r = files.resolve(raw);
            assertEquals(403, r.status(), raw);
            assertNull(r.file(), raw);
        }
    }

    @Test
    void answers404ForMissingFilesAndDirectories()
    {
        for (final String raw : new String[] {"", "missing.txt", "docs", "docs/", "docs/sub/", "docs/missing/x.txt",
            "index.html/x", "dangling.txt", "outdir/", "a..b.txt"})
        {
            final StaticFiles.Resolution r = files.resolve(raw);
            assertEquals(404, r.status(), raw);
            assertNull(r.file(), raw);
        }
    }

    @Test
    void answers403ForUnreadableFiles() throws IOException
    {
        final Path locked = Files.writeString(root.resolve("locked.txt"), "no");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        assumeTrue(!Files.isReadable(locked), "running as a user who can read anything (root)");
        assertEquals(403, files.resolve("locked.txt").status());
    }

    @Test
    void acceptsDotsInsideNames() throws IOException
    {
        Files.writeString(root.resolve("a..b.txt"), "dots");
        Files.writeString(root.resolve(".hidden"), "dotfile");
        assertEquals(200, files.resolve("a..b.txt").status());
        assertEquals(404, files.resolve("...").status(), "three dots is a name, not a step up");
        assertEquals(200, new StaticFiles(root, true).resolve(".hidden").status(), "dotfiles are served when allowed");
    }

    @Test
    void refusesHiddenFilesWith404ByDefault() throws IOException
    {
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "[core]");
        Files.writeString(root.resolve(".env"), "SECRET=1");
        Files.createDirectories(root.resolve("a/.hidden"));
        Files.writeString(root.resolve("a/.hidden/b"), "b");
        Files.createSymbolicLink(root.resolve("config"), root.resolve(".env"));
        Files.createSymbolicLink(root.resolve("a/visible"), root.resolve("a/.hidden"));
        for (final String raw : new String[] {".git/config", ".env", "a/.hidden/b", "%2egit/config", "%2Eenv",
            ".missing", "a/.missing/b", ".git/", "config", "a/visible/b"})
        {
            assertEquals(404, files.resolve(raw).status(), raw);
        }
        // Traversal and malformed paths stay 400 even when a hidden segment comes first.
        assertEquals(400, files.resolve(".git/../index.html").status());
        assertEquals(400, files.resolve(".env%zz").status());
        assertEquals(400, files.resolve(".hidden/%2fx").status());
        assertFalse(files.allowsDotfiles());

        final StaticFiles allowing = new StaticFiles(root, true);
        assertTrue(allowing.allowsDotfiles());
        for (final String raw : new String[] {".git/config", ".env", "a/.hidden/b", "%2egit/config", "config", "a/visible/b"})
        {
            assertEquals(200, allowing.resolve(raw).status(), raw);
        }
        assertEquals(404, allowing.resolve(".missing").status());
        assertEquals(400, allowing.resolve("..").status(), "allowing dotfiles does not allow traversal");
        assertEquals(403, allowing.resolve("out.txt").status());
    }

    @Test
    void refusesARootThatIsNotADirectory() throws IOException
    {
        final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
            () -> new StaticFiles(temp.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StaticFiles(temp.resolve("secret.txt")));
    }

    @Test
    void resolvesTheRootThroughLinks() throws IOException
    {
        final Path link = Files.createSymbolicLink(temp.resolve("root-link"), root);
        final StaticFiles viaLink = new StaticFiles(link);
        assertEquals(root.toRealPath(), viaLink.root());
        assertEquals(200, viaLink.resolve("index.html").status());
        assertEquals(403, viaLink.resolve("out.txt").status());
    }

    @Test
    void mapsExtensionsToMediaTypes()
    {
        assertEquals("text/html; charset=utf-8", StaticFiles.contentType(Path.of("a.html")));
        assertEquals("text/html; charset=utf-8", StaticFiles.contentType(Path.of("A.HTM")));
        assertEquals("text/css; charset=utf-8", StaticFiles.contentType(Path.of("x/y.css")));
        assertEquals("text/javascript; charset=utf-8", StaticFiles.contentType(Path.of("app.js")));
        assertEquals("application/json", StaticFiles.contentType(Path.of("d.json")));
        assertEquals("text/plain; charset=utf-8", StaticFiles.contentType(Path.of("r.txt")));
        assertEquals("image/svg+xml; charset=utf-8", StaticFiles.contentType(Path.of("i.svg")));
        assertEquals("image/png", StaticFiles.contentType(Path.of("i.png")));
        assertEquals("image/jpeg", StaticFiles.contentType(Path.of("i.jpg")));
        assertEquals("image/jpeg", StaticFiles.contentType(Path.of("i.jpeg")));
        assertEquals("image/gif", StaticFiles.contentType(Path.of("i.gif")));
        assertEquals("image/x-icon", StaticFiles.contentType(Path.of("favicon.ico")));
        assertEquals("application/pdf", StaticFiles.contentType(Path.of("p.pdf")));
        assertEquals("application/wasm", StaticFiles.contentType(Path.of("m.wasm")));
        assertEquals("application/xml; charset=utf-8", StaticFiles.contentType(Path.of("f.xml")));
        assertEquals("text/markdown; charset=utf-8", StaticFiles.contentType(Path.of("README.md")));
        assertEquals("text/csv; charset=utf-8", StaticFiles.contentType(Path.of("t.CSV")));
        assertEquals("text/javascript; charset=utf-8", StaticFiles.contentType(Path.of("mod.mjs")));
        assertEquals("application/json", StaticFiles.contentType(Path.of("app.js.map")));
        assertEquals("application/manifest+json", StaticFiles.contentType(Path.of("site.webmanifest")));
        assertEquals("image/webp", StaticFiles.contentType(Path.of("i.webp")));
        assertEquals("image/avif", StaticFiles.contentType(Path.of("i.avif")));
        assertEquals("font/woff2", StaticFiles.contentType(Path.of("f.woff2")));
        assertEquals("font/woff", StaticFiles.contentType(Path.of("f.woff")));
        assertEquals("video/mp4", StaticFiles.contentType(Path.of("v.mp4")));
        assertEquals("audio/mpeg", StaticFiles.contentType(Path.of("a.mp3")));
        assertEquals("application/yaml; charset=utf-8", StaticFiles.contentType(Path.of("c.yml")));
        assertEquals("application/gzip", StaticFiles.contentType(Path.of("archive.tar.gz")));
        assertEquals("application/zip", StaticFiles.contentType(Path.of("a.zip")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("a.unknown-extension")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("trailing.")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("README")));
        assertEquals("application/octet-stream", StaticFiles.contentType(Path.of("/")));
    }
}
