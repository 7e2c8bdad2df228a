package io.millrace.demo;

import io.millrace.balance.StatsView;
import io.millrace.balance.UpstreamSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reverse-proxy flags: what they parse to, their defaults, and the messages for misuse. */
class ProxyFlagsTest
{
    private static ProxySettings parse(final String... args)
    {
        return DemoConfig.parse(args).proxy();
    }

    private static String error(final String... args)
    {
        return assertThrows(IllegalArgumentException.class, () -> DemoConfig.parse(args)).getMessage();
    }

    @Test
    void theIssuesExampleParses()
    {
        final ProxySettings p = parse("--upstream", "127.0.0.1:9001", "--upstream", "127.0.0.1:9002,weight=3",
            "--upstream", "127.0.0.1:9003,backup", "--balance", "least-time");
        assertTrue(p.enabled());
        assertEquals(List.of(UpstreamSpec.parse("127.0.0.1:9001"), UpstreamSpec.parse("127.0.0.1:9002,weight=3"),
            UpstreamSpec.parse("127.0.0.1:9003,backup")), p.upstreams());
        assertEquals(3, p.upstreams().get(1).weight());
        assertTrue(p.upstreams().get(2).backup());
        assertEquals("least-time", p.balance());
    }

    @Test
    void withoutUpstreamsTheDemoIsNotAProxyAndTheDefaultsAreTheLibrarys()
    {
        final ProxySettings none = parse();
        assertFalse(none.enabled());
        assertEquals(ProxySettings.none(), none);
        final ProxySettings p = parse("--upstream", "127.0.0.1:9001");
        assertEquals("round-robin", p.balance());
        assertFalse(p.probes());
        assertNull(p.healthPath());
        assertEquals(1, p.maxFails());
        assertEquals(10_000, p.failTimeoutMs());
        assertEquals(2, p.retries(), "3 tries in all, nginx's and HttpProxyBuilder's default");
        assertEquals(5_000, p.connectTimeoutMs());
        assertEquals(60_000, p.readTimeoutMs());
        assertEquals(List.of(), p.retryOn());
        assertEquals(StatsView.MERGED, p.statsView());
    }

    @Test
    void everyFlagParses()
    {
        final ProxySettings p = parse("--upstream-file", "ups.txt", "--balance", "LEAST_CONN", "--health-path", "/health",
            "--probe-interval-ms", "500", "--rise", "3", "--fall", "4", "--max-fails", "5", "--fail-timeout-ms", "2000",
            "--max-ejection-ms", "60000", "--max-ejection-percent", "50", "--slow-start-ms", "3000",
            "--latency-decay-ms", "7000", "--stats-view", "worker", "--retries", "0", "--next-upstream-timeout-ms", "1500",
            "--retry-on", "502,504", "--retry-non-idempotent", "--proxy-connect-timeout-ms", "250",
            "--proxy-read-timeout-ms", "0", "--proxy-idle-timeout-ms", "900", "--proxy-keepalive", "0",
            "--proxy-keepalive-requests", "10", "--proxy-max-conns", "7", "--proxy-via", "edge-1");
        assertEquals(new ProxySettings(List.of(), Path.of("ups.txt"), "least-conn", "/health", 500, 3, 4, 5, 2000, 60000, 50,
            3000, 7000, StatsView.WORKER, 0, 1500, List.of(502, 504), true, 250, 0, 900, 0, 10, 7, "edge-1"), p);
        assertTrue(p.enabled(), "an upstream file alone makes a proxy (it may list none yet)");
        assertEquals(ProxySettings.DEFAULT_PROBE_INTERVAL_MS,
            parse("--upstream", "127.0.0.1:1", "--health-path", "/h").probeIntervalMs(), "a health path turns probes on");
        final ProxySettings tcp = parse("--upstream", "127.0.0.1:1", "--probe-interval-ms", "100");
        assertTrue(tcp.probes());
        assertNull(tcp.healthPath(), "an interval without a path probes with TCP connects");
    }

    @Test
    void misuseSaysWhatToDo()
    {
        assertTrue(error("--upstream", "127.0.0.1").startsWith("--upstream '127.0.0.1': "), error("--upstream", "127.0.0.1"));
        assertTrue(error("--upstream", "127.0.0.1:9001,weight=0").contains("weight"));
        assertTrue(error("--upstream", "127.0.0.1:9001,wieght=2").startsWith("--upstream '127.0.0.1:9001,wieght=2'"));
        assertEquals("--upstream 127.0.0.1:9001 is given twice; give each upstream once",
            error("--upstream", "127.0.0.1:9001", "--upstream", "127.0.0.1:9001,weight=2"));
        assertEquals("--upstream needs a value; try --help", error("--upstream"));
        final String policy = error("--upstream", "127.0.0.1:1", "--balance", "fair");
        assertTrue(policy.startsWith("--balance: unknown balancing policy 'fair'; valid: round-robin"), policy);
        assertTrue(policy.contains("least-time"), policy);
        assertEquals("--balance, --retries are for the reverse proxy: add --upstream HOST:PORT (or --upstream-file PATH), " +
            "or drop them", error("--balance", "least-time", "--retries", "1"));
        assertEquals("--health-path is for the reverse proxy: add --upstream HOST:PORT (or --upstream-file PATH), or drop it",
            error("--health-path", "/h"));
        assertTrue(error("--upstream", "127.0.0.1:1", "--rise", "2").startsWith("--rise and --fall count active probes: add"));
        assertTrue(error("--upstream", "127.0.0.1:1", "--health-path", "health").startsWith("--health-path needs a path"));
        assertEquals("--retries must be between 0 and 99, got 100", error("--upstream", "127.0.0.1:1", "--retries", "100"));
        assertEquals("--retries needs a number, got 'two'", error("--upstream", "127.0.0.1:1", "--retries", "two"));
        assertEquals("--max-fails must be between 0 and 1000, got -1", error("--upstream", "127.0.0.1:1", "--max-fails", "-1"));
        assertEquals("--fail-timeout-ms must be between 1 and 86400000, got 0",
            error("--upstream", "127.0.0.1:1", "--fail-timeout-ms", "0"));
        assertEquals("--proxy-connect-timeout-ms must be between 1 and 3600000, got 0",
            error("--upstream", "127.0.0.1:1", "--proxy-connect-timeout-ms", "0"));
        assertTrue(error("--upstream", "127.0.0.1:1", "--retry-on", "500").startsWith("--retry-on takes some of 502,503,504"));
        assertTrue(error("--upstream", "127.0.0.1:1", "--stats-view", "all").startsWith("--stats-view is merged or worker"));
        assertTrue(error("--upstream", "127.0.0.1:1", "--proxy-via", "a b").startsWith("--proxy-via needs a token"));
        assertEquals("unknown flag '--upstreams'; try --help", error("--upstreams", "127.0.0.1:1"));
    }

    @Test
    void helpListsEveryFlagTheParserTakes() throws Exception
    {
        // Every case label of DemoConfig's and ProxyFlags' switches is in the usage text, and the reverse.
        final String sources = java.nio.file.Files.readString(Path.of("src/main/java/io/millrace/demo/DemoConfig.java")) +
            java.nio.file.Files.readString(Path.of("src/main/java/io/millrace/demo/ProxyFlags.java"));
        final Matcher m = Pattern.compile("\"(--[a-z-]+)\"").matcher(sources);
        int flags = 0;
        while (m.find())
        {
            final String flag = m.group(1);
            if (flag.equals("--help"))
            {
                continue;
            }
            flags++;
            assertTrue(Pattern.compile("(?m)^\\s+" + Pattern.quote(flag) + "\\b").matcher(DemoConfig.USAGE).find(),
                flag + " is parsed but not listed by --help");
        }
        assertTrue(flags > 40, "found the flags: " + flags);
        final Matcher listed = Pattern.compile("(?m)^\\s+(--[a-z-]+)").matcher(DemoConfig.USAGE);
        while (listed.find())
        {
            final String flag = listed.group(1);
            if (!flag.equals("--help"))
            {
                assertTrue(sources.contains("\"" + flag + "\""), flag + " is listed by --help but not parsed");
            }
        }
    }
}
