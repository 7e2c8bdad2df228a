package com.example;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs in surefire's forked JVM: passes only if the fragment's argLine gives Agrona its export. */
class MainTest {
    @Test
    void everyDepositLands() throws Exception {
        assertEquals(500L * 501 / 2, Main.run(500));
    }
}
