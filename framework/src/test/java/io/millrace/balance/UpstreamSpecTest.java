package io.millrace.balance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's upstream syntax and the upstream file, with the errors a user would make. */
class UpstreamSpecTest
{
    @Test
    void parsesTheFlagSyntax()
    {
        final UpstreamSpec plain = UpstreamSpec.parse("127.0.0.1:9001");
        assertEquals("127.0.0.1:9001", plain.name());
        assertEquals("127.0.0.1", plain.host());
        assertEquals(9001, plain.port());
        assertEquals(1, plain.weight());
        assertFalse(plain.backup());
        assertNull(plain.zone());
        assertEquals(UpstreamSpec.INHERIT, plain.maxFails());

        assertEquals(3, UpstreamSpec.parse("127.0.0.1:9002,weight=3").weight());
        assertTrue(UpstreamSpec.parse("127.0.0.1:9003,backup").backup());
        assertEquals("a", UpstreamSpec.parse("127.0.0.1:9004,zone=a").zone());

        final UpstreamSpec all = UpstreamSpec.parse(" App-1.Example.com:8080 , weight=5, zone=eu-1 ,max_fails=3," +
            "fail-timeout=1m30s,slow-start=500ms,max-conns=10,max-pending=5,max-in-flight=7,backup ");
        assertEquals("app-1.example.com:8080", all.name());
        assertEquals(5, all.weight());
        assertEquals("eu-1", all.zone());
        assertEquals(3, all.maxFails());
        assertEquals(Duration.ofSeconds(90), all.failTimeout());
        assertEquals(Duration.ofMillis(500), all.slowStart());
        assertEquals(10, all.maxConnections());
        assertEquals(5, all.maxPending());
        assertEquals(7, all.maxInFlight());
        assertTrue(all.backup());
        assertEquals(all, UpstreamSpec.parse(all.toString()), "toString is the text form");

        final UpstreamSpec v6 = UpstreamSpec.parse("[::1]:9005,weight=2");
        assertEquals("::1", v6.host());
        assertEquals("[::1]:9005", v6.name());
        assertEquals(v6, UpstreamSpec.parse(v6.toString()));
        assertEquals("[::1]:80", UpstreamSpec.of("[::1]", 80).name());
    }

    @Test
    void refusesMistakesWithMessagesThatSayWhatToWrite()
    {
        expect("127.0.0.1", "has no port");
        expect("127.0.0.1:0", "port must be 1 to 65535");
        expect("127.0.0.1:65536", "port must be 1 to 65535");
        expect("127.0.0.1:http", "is not a number");
        expect("::1:80", "brackets");
        expect("[::1]80", "[address]:port");
        expect("bad_host:80", "not a host name");
        expect("", "empty upstream");
        expect("127.0.0.1:80,weight=0", "weight must be 1 to 1000");
        expect("127.0.0.1:80,weight=1001", "weight must be 1 to 1000");
        expect("127.0.0.1:80,weight=x", "not a whole number");
        expect("127.0.0.1:80,weight", "needs a value");
        expect("127.0.0.1:80,weight=2,weight=3", "given twice");
        expect("127.0.0.1:80,backup=yes", "takes no value");
        expect("127.0.0.1:80,zone=a b", "zone");
        expect("127.0.0.1:80,fail-timeout=10", "units ms, s, m, h");
        expect("127.0.0.1:80,fail-timeout=0s", "fail-timeout must be positive");
        expect("127.0.0.1:80,max-fails=-2", "max-fails must be 0");
        expect("127.0.0.1:80,max-conns=-1", "max-conns must be 0");
        expect("127.0.0.1:80,,backup", "empty parameter");
        final IllegalArgumentException e = expect("127.0.0.1:80,wieght=3", "unknown parameter 'wieght'");
        assertTrue(e.getMessage().contains("weight=N"), e.getMessage());
    }

    @Test
    void readsAnUpstreamFileWithCommentsAndLineNumbersInErrors(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("upstreams");
        Files.writeString(file, """
            # the app servers
            127.0.0.1:9001
            127.0.0.1:9002,weight=3   # the big one

            127.0.0.1:9003,backup
            """);
        final List<UpstreamSpec> specs = UpstreamSpec.readFile(file);
        assertEquals(3, specs.size());
        assertEquals(3, specs.get(1).weight());
        assertTrue(specs.get(2).backup());

        final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
            () -> UpstreamSpec.parseLines(List.of("# x", "127.0.0.1:1", "127.0.0.1:2,weight=zero")));
        assertTrue(bad.getMessage().startsWith("line 3: "), bad.getMessage());
        final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
            () -> UpstreamSpec.parseLines(List.of("127.0.0.1:1", "127.0.0.1:1,weight=2")));
        assertTrue(twice.getMessage().contains("already on line 1"), twice.getMessage());
        Files.writeString(file, "127.0.0.1:1,nope\n");
        final IllegalArgumentException inFile = assertThrows(IllegalArgumentException.class, () -> UpstreamSpec.readFile(file));
        assertTrue(inFile.getMessage().startsWith(file + ": line 1: "), inFile.getMessage());
    }

    @Test
    void endpointsAreNamedOpaqueObjects()
    {
        final Object target = new Object();
        final UpstreamSpec spec = UpstreamSpec.ofEndpoint("queue-a", target).withWeight(2).withZone("z");
        assertEquals("queue-a", spec.name());
        assertEquals(target, spec.endpoint());
        assertNull(spec.host());
        assertThrows(IllegalArgumentException.class, () -> UpstreamSpec.ofEndpoint("has space", target));
        assertThrows(NullPointerException.class, () -> UpstreamSpec.ofEndpoint("x", null));
    }

    private static IllegalArgumentException expect(final String text, final String fragment)
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpstreamSpec.parse(text), text);
        assertTrue(e.getMessage().contains(fragment), "'" + text + "' gave: " + e.getMessage());
        return e;
    }
}
