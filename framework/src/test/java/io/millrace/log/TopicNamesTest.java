package io.millrace.log;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Topic names that are directory names under the data directory, and nothing that walks out of it. */
class TopicNamesTest
{
    @Test
    void acceptsTheAllowedAlphabetUpToSixtyFourCharacters()
    {
        for (final String ok : new String[] {"a", "orders", "kv", "a.b", "x_y-z.0", "...", ".hidden", "-", "9".repeat(64)})
        {
            assertEquals(ok, TopicNames.validate(ok));
        }
        assertEquals(Path.of("/data/orders"), TopicNames.directory(Path.of("/data"), "orders"));
    }

    @Test
    void refusesDotsSeparatorsCaseEmptyLongAndNull()
    {
        for (final String bad : new String[] {".", "..", "", "a/b", "../etc", "a\\b", "Orders", "a b", "a\0b", "é",
            "a:b", "~", "9".repeat(65), "/abs"})
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TopicNames.validate(bad), bad);
            assertTrue(e.getMessage().contains("a-z, 0-9"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> TopicNames.validate(null));
        assertThrows(IllegalArgumentException.class, () -> TopicNames.directory(Path.of("/data"), ".."));
    }
}
