package io.millrace.examples;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ThreeStageExampleTest
{
    @Test
    void theReadmeExampleRuns() throws Exception
    {
        assertEquals(10_000, ThreeStageExample.run(10_000));
    }
}
