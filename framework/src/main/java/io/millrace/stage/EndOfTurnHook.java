package io.millrace.stage;

/**
 * Work a stage defers to the end of its worker's current loop turn, after the turn's inbox batch,
 * local submissions, I/O and timers: the place to flush or commit once for everything the turn
 * produced (a group commit, one gathering write).
 *
 * <p>Registered with {@link StageContext#atEndOfTurn(EndOfTurnHook)}; registering the same hook
 * object again in the same turn does nothing, so it runs once per turn however many requests asked.
 * Runs on the worker inside the runtime's guard: a hook that throws is logged and counted, and the
 * worker goes on. A hook may register hooks (itself included): they run at the end of the next turn,
 * which the worker starts at once rather than parking.
 */
@FunctionalInterface
public interface EndOfTurnHook
{
    /** Called once at the end of the turn in which it was registered. */
    void onEndOfTurn();
}
