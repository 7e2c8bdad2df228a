package io.millrace.examples;

import io.millrace.memory.LeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link AccountsExample} and checks what it promises: every request completes, the balances
 * and the audit are right, the lock-grid cell numbers each account's statement lines 1..n with no
 * gap or repeat, every reply says what happened, the replies took a handful of chunks rather than
 * one each, and every buffer is back. Also checks that docs/guide.md shows the example's code verbatim.
 */
@Timeout(120)
class AccountsExampleTest
{
    private static final String SECTION = "A complete example: accounts";
    private static final String SOURCE = "src/test/java/io/millrace/examples/AccountsExample.java";

    @Test
    void everyRequestCompletesWithTheRightBalancesAndRepliesAndNothingLeaks() throws InterruptedException
    {
        final int accounts = 101;                      // 0..99 for the workload, 100 for an overdraft
        final List<AccountsExample.Request> all = new ArrayList<>(Arrays.asList(AccountsExample.workload(10_000, 100)));
        final AccountsExample.Request overdraft = new AccountsExample.Request("withdraw 100 2000000");
        final AccountsExample.Request garbled = new AccountsExample.Request("deposit seventeen 5");
        final AccountsExample.Request unknown = new AccountsExample.Request("transfer 1 2");
        all.add(5_000, overdraft);
        all.add(garbled);
        all.add(0, unknown);
        final AccountsExample.Request[] requests = all.toArray(new AccountsExample.Request[0]);

        // What the balances must be: the workload never overdraws (opening balance 1,000,000 cents).
        final long[] expected = new long[accounts];
        Arrays.fill(expected, AccountsExample.OPENING_BALANCE);
        final long[] lines = new long[accounts];
        long cents = 0;
        int valid = 0;
        for (final AccountsExample.Request r : AccountsExample.workload(10_000, 100))
        {
            assertTrue(AccountsExample.parseLine(r), r.line);
            expected[r.account] += r.cents;
            lines[r.account]++;
            cents += r.cents;
            valid++;
        }
        lines[100] = 1;

        final LeakDetector leaks = LeakDetector.paranoid();
        final AccountsExample.Result result = AccountsExample.run(requests, accounts, leaks);
        System.out.print(result.metrics());

        assertEquals(0, result.failed(), "no request failed");
        assertTrue(result.metrics().startsWith("10,003 requests: 10,003 completed, 0 failed"), result.metrics());
        assertArrayEquals(expected, result.balances(), "every deposit and withdrawal landed exactly once");
        assertEquals(valid + 1, result.audited(), "every well-formed request was audited, the refused one too");
        assertEquals(cents, result.auditedCents(), "the refused withdrawal moved nothing");
        assertArrayEquals(lines, result.statementLines(), "one statement line per request and account");

        // Statement lines of each account are 1..n, none twice: the grid cell excluded the other worker.
        final BitSet[] seen = new BitSet[accounts];
        for (final AccountsExample.Request r : requests)
        {
            if (r == garbled || r == unknown)
            {
                assertNull(r.replyText, "a malformed line ends at parse, with no reply");
                continue;
            }
            final String prefix = r.refused ? "refused " : "ok ";
            assertEquals(prefix + r.account + " line " + r.statementLine + " balance " + r.balance + "\n", r.replyText);
            seen[r.account] = seen[r.account] == null ? new BitSet() : seen[r.account];
            assertFalse(seen[r.account].get((int)r.statementLine), "line " + r.statementLine + " of " + r.account + " twice");
            seen[r.account].set((int)r.statementLine);
        }
        for (int a = 0; a < accounts; a++)
        {
            assertEquals(lines[a], seen[a].cardinality());
            assertEquals(lines[a], seen[a].nextClearBit(1) - 1, "lines 1.." + lines[a] + " of account " + a);
        }
        assertTrue(overdraft.refused);
        assertEquals("refused 100 line 1 balance 1000000\n", overdraft.replyText);

        assertTrue(result.replyChunksTaken() <= 16, "10,001 replies in 64-byte slots took " + result.replyChunksTaken() +
            " chunks; one 16 KiB chunk each would be 10,001");
        assertEquals(0, result.chunksStillOut(), "after the shutdown every chunk is back, the shared ones too");
        assertEquals(0, leaks.tracked(), "every reply buffer was released");
        assertEquals(0, leaks.leaksReported());
    }

    @Test
    void theGuideShowsTheExampleVerbatim() throws IOException
    {
        final Path framework = Path.of("").toAbsolutePath();
        final String source = Files.readString(framework.resolve(SOURCE), StandardCharsets.UTF_8);
        final int begin = source.indexOf('\n', source.indexOf("// guide:begin")) + 1;
        final int end = source.lastIndexOf('\n', source.indexOf("// guide:end")) + 1;
        final String shown = source.substring(begin, end).lines()
            .map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
            .collect(Collectors.joining("\n", "", "\n"));

        Path dir = framework;
        while (dir != null && !Files.exists(dir.resolve("docs/guide.md")))
        {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "docs/guide.md above " + framework);
        final String page = Files.readString(dir.resolve("docs/guide.md"), StandardCharsets.UTF_8);
        final int section = page.indexOf(SECTION);
        assertTrue(section >= 0, "docs/guide.md has a section '" + SECTION + "'");
        final int open = page.indexOf("```java\n", section);
        final int start = open + "```java\n".length();
        assertEquals(shown, page.substring(start, page.indexOf("```", start)),
            "docs/guide.md's first code block of '" + SECTION + "' is " + SOURCE + " between guide:begin and guide:end, " +
            "less 8 spaces of indentation; copy it over");
    }
}
