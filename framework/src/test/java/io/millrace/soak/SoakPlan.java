package io.millrace.soak;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * What one request will do and what goes wrong for it: the stages it visits, the fault (if any) at
 * each step and in each key function, how its suspension is resumed, whether and how it is
 * cancelled, its deadline, the locks and buffers it takes. Drawn from the seed's {@link Random}
 * before the pipeline starts, so it is the same on every replay of the seed; immutable afterwards
 * (key functions read it from any thread).
 *
 * <p>From the plan follows what the request may complete with ({@link #successPossible()},
 * {@link #mayFailWith(byte)}, ...), which the completion listener checks.
 */
final class SoakPlan
{
    // ---------------------------------------------------------------- stages, by index
    static final int E = 0;
    static final int IN = 1;
    static final int PT = 2;
    static final int PN = 3;
    static final int BL = 4;
    static final int SU = 5;
    static final int LK = 6;
    static final int LK2 = 7;
    static final int UL = 8;
    static final int STAGES = 9;
    static final String[] STAGE_NAMES = {"entry", "inline", "partitioned", "pinned", "blocking", "suspend", "lock", "lock2", "unlock"};

    // ---------------------------------------------------------------- fault codes
    static final byte NONE = 0;
    static final byte RUNTIME = 1;
    static final byte CHECKED = 2;
    static final byte ASSERTION = 3;
    static final byte SOE = 4;
    /** Real runaway recursion, not a thrown StackOverflowError. */
    static final byte SOE_REAL = 5;
    /** The handler returns null: a misuse the runtime completes with an IllegalStateException. */
    static final byte MISUSE_NULL = 6;
    static final byte KEY_RUNTIME = 7;
    static final byte KEY_CHECKED = 8;
    static final byte KEY_ASSERTION = 9;
    static final byte KEY_SOE = 10;
    static final byte KEY_SOE_REAL = 11;
    /** The onWorker key names a worker that does not exist: IllegalArgumentException. */
    static final byte KEY_OUT_OF_RANGE = 12;
    /** The resumer calls {@code Suspension.fail}. */
    static final byte RESUME_FAIL = 13;
    /** The suspending stage throws after handing its suspension to the resumer. */
    static final byte AFTER_SUSPEND = 14;
    /** A held resource whose release throws is left for the runtime to release. */
    static final byte HOLD_THROWS = 15;
    private static final String[] FAULT_NAMES = {"-", "RUNTIME", "CHECKED", "ASSERTION", "SOE", "SOE_REAL", "MISUSE_NULL",
        "KEY_RUNTIME", "KEY_CHECKED", "KEY_ASSERTION", "KEY_SOE", "KEY_SOE_REAL", "KEY_OUT_OF_RANGE", "RESUME_FAIL",
        "AFTER_SUSPEND", "HOLD_THROWS"};

    // ---------------------------------------------------------------- resume, cancel, deadline
    static final int R_IMMEDIATE = 0;
    static final int R_IMMEDIATE_TWICE = 1;
    static final int R_EXTERNAL = 2;
    static final int R_TIMER = 3;
    static final int R_HOOK = 4;
    static final int R_NEVER = 5;
    private static final String[] RESUME_NAMES = {"immediate", "immediate-twice", "external", "timer", "end-of-turn", "never"};
    static final int O_NEXT = 0;
    static final int O_DONE = 1;
    static final int O_FAIL = 2;
    private static final String[] OUTCOME_NAMES = {"next", "done", "fail"};
    static final int C_NONE = 0;
    static final int C_BEFORE_SUBMIT = 1;
    static final int C_EXTERNAL = 2;
    static final int C_TIMER = 3;
    static final int C_SELF = 4;
    private static final String[] CANCEL_NAMES = {"none", "before-submit", "external", "worker-timer", "self"};
    static final int D_NONE = 0;
    static final int D_PAST = 1;
    static final int D_SHORT = 2;
    static final int D_LONG = 3;
    private static final String[] DEADLINE_NAMES = {"none", "past", "short", "long"};

    final int id;
    final boolean probe;
    int[] path;
    /** Handler fault per step. */
    byte[] stepFault;
    /** Key-function fault per stage. */
    final byte[] keyFault = new byte[STAGES];
    /** Key per keyed stage: a partition key, or a worker index for onWorker stages. */
    final int[] key = new int[STAGES];
    int slowEntryKeyMicros;
    int resumeKind = -1;
    int resumeOutcome;
    long resumeDelayNanos;
    boolean throwAfterSuspend;
    int cancelKind;
    int cancelStep = -1;
    long cancelDelayNanos;
    boolean token;
    int deadlineKind;
    long deadlineNanos;
    long[] lockKeys;
    boolean lockReleaseAtOnce;
    long lock2Key;
    int bufAllocStep = -1;
    int bufReleaseStep = -1;
    int holdThrowsStep = -1;
    int childStep = -1;
    SoakPlan child;
    boolean listenerThrows;
    long blockSleepNanos;

    private SoakPlan(final int id, final boolean probe)
    {
        this.id = id;
        this.probe = probe;
    }

    /** A probe: entry, then the onWorker stage pinned to {@code worker}; nothing goes wrong. */
    static SoakPlan probe(final int id, final int worker, final SoakShape shape)
    {
        final SoakPlan p = new SoakPlan(id, true);
        p.path = new int[] {E, PN};
        p.stepFault = new byte[2];
        p.key[E] = shape.entryKind == SoakShape.ENTRY_PINNED ? worker : id;
        p.key[PN] = worker;
        return p;
    }

    /**
     * @param childId id for a child request this one may submit from inside a stage, or -1 for none
     */
    static SoakPlan generate(final Random rnd, final int id, final SoakShape shape, final int childId)
    {
        final SoakPlan p = new SoakPlan(id, false);
        final List<Integer> middle = new ArrayList<>();
        for (final int stage : new int[] {IN, PT, PN, BL})
        {
            if (rnd.nextDouble() < 0.45)
            {
                middle.add(stage);
            }
        }
        if (rnd.nextDouble() < shape.suspendRate)
        {
            middle.add(SU);
        }
        Collections.shuffle(middle, rnd);
        final boolean lk = rnd.nextDouble() < shape.lockRate;
        final boolean lk2 = rnd.nextDouble() < shape.lockRate * 0.6;
        if (lk)
        {
            middle.add(rnd.nextInt(middle.size() + 1), LK);
        }
        if (lk2)
        {
            // The grid's lock order: a cell of row 'lock' may be held while taking one of 'lock2', never the reverse.
            final int from = lk ? middle.indexOf(LK) + 1 : 0;
            middle.add(from + rnd.nextInt(middle.size() - from + 1), LK2);
        }
        if ((lk || lk2) && rnd.nextDouble() < 0.8)
        {
            final int last = Math.max(middle.indexOf(LK), middle.indexOf(LK2));
            middle.add(last + 1 + rnd.nextInt(middle.size() - last), UL);
        }
        final int len = middle.size() + 1;
        p.path = new int[len];
        p.path[0] = E;
        for (int i = 1; i < len; i++)
        {
            p.path[i] = middle.get(i - 1);
        }

        // Keys, and faults in the key functions of the keyed stages on the path.
        p.key[E] = shape.entryKind == SoakShape.ENTRY_PINNED ? rnd.nextInt(SoakShape.WORKERS) : rnd.nextInt(1000);
        p.key[PT] = rnd.nextInt(1000);
        p.key[PN] = rnd.nextInt(SoakShape.WORKERS);
        p.key[LK2] = rnd.nextInt(1000);
        for (int i = 0; i < len; i++)
        {
            final int stage = p.path[i];
            final boolean keyed = stage == PT || stage == PN || stage == LK2 || (stage == E && shape.entryKind != SoakShape.ENTRY_INLINE);
            final boolean pinned = stage == PN || (stage == E && shape.entryKind == SoakShape.ENTRY_PINNED);
            if (keyed && rnd.nextDouble() < shape.faultRate / 2)
            {
                final byte code = new byte[] {KEY_RUNTIME, KEY_CHECKED, KEY_ASSERTION, KEY_SOE, KEY_SOE_REAL, KEY_OUT_OF_RANGE}
                    [SoakShape.weighted(rnd, 30, 20, 20, 15, 5, 10)];
                p.keyFault[stage] = code == KEY_OUT_OF_RANGE && !pinned ? KEY_RUNTIME : code;
                if (p.keyFault[stage] == KEY_OUT_OF_RANGE)
                {
                    p.key[stage] = new int[] {SoakShape.WORKERS, SoakShape.WORKERS + 1, -1, 1000}[rnd.nextInt(4)];
                }
            }
        }
        if (shape.entryKind != SoakShape.ENTRY_INLINE && rnd.nextDouble() < 0.01)
        {
            p.slowEntryKeyMicros = 200 + rnd.nextInt(1800);
        }

        // Handler faults per step.
        p.stepFault = new byte[len];
        for (int i = 0; i < len; i++)
        {
            if (rnd.nextDouble() < shape.faultRate)
            {
                p.stepFault[i] = new byte[] {RUNTIME, CHECKED, ASSERTION, SOE, SOE_REAL, MISUSE_NULL}[SoakShape.weighted(rnd, 30, 25, 20, 15, 5, 5)];
            }
        }

        // Suspension.
        final int suStep = p.stepOf(SU);
        if (suStep >= 0)
        {
            p.resumeKind = SoakShape.weighted(rnd, 15, 5, 35, 20, 10, 10);
            p.resumeOutcome = SoakShape.weighted(rnd, 82, 10, 8);
            p.resumeDelayNanos = p.resumeKind == R_EXTERNAL ?
                (rnd.nextDouble() < 0.3 ? 0 : rnd.nextDouble() < 0.95 ? 20_000 + rnd.nextInt(980_000) : 1_000_000 + rnd.nextInt(3_000_000)) :
                rnd.nextInt(2_000_000);
            p.throwAfterSuspend = rnd.nextDouble() < 0.05;
        }

        // Cancellation and deadline.
        p.cancelKind = SoakShape.weighted(rnd, 72, 3, 13, 6, 6);
        p.cancelDelayNanos = rnd.nextInt(p.cancelKind == C_TIMER ? 2_000_000 : 3_000_000);
        p.cancelStep = p.cancelKind == C_SELF ? rnd.nextInt(len) : -1;
        if (p.resumeKind == R_NEVER && !shape.midLoad() &&
            !(p.cancelKind == C_BEFORE_SUBMIT || p.cancelKind == C_EXTERNAL || p.cancelKind == C_TIMER ||
                (p.cancelKind == C_SELF && p.cancelStep <= suStep)))
        {
            // Draining needs every request to end: one never resumed must be cancelled.
            p.cancelKind = C_EXTERNAL;
            p.cancelStep = -1;
        }
        p.deadlineKind = SoakShape.weighted(rnd, 82, 4, 10, 4);
        p.deadlineNanos = p.deadlineKind == D_SHORT ? 50_000 + rnd.nextInt(2_950_000) : 0;
        p.token = p.cancelKind != C_NONE || p.deadlineKind != D_NONE || rnd.nextDouble() < 0.1;

        // Locks.
        if (p.stepOf(LK) >= 0)
        {
            p.lockKeys = rnd.nextDouble() < 0.3 ?
                new long[] {rnd.nextInt(shape.lockKeySpace), rnd.nextInt(shape.lockKeySpace)} :
                new long[] {rnd.nextInt(shape.lockKeySpace)};
            p.lockReleaseAtOnce = rnd.nextDouble() < 0.35;
        }
        p.lock2Key = rnd.nextInt(shape.lockKeySpace);

        // Buffers, a held resource whose release throws, a child request, a throwing listener.
        if (rnd.nextDouble() < 0.35)
        {
            final int at = rnd.nextInt(len);
            if (p.path[at] != BL)
            {
                p.bufAllocStep = at;
                p.bufReleaseStep = rnd.nextDouble() < 0.65 ? at + rnd.nextInt(len - at) : -1;
            }
        }
        if (rnd.nextDouble() < 0.02)
        {
            p.holdThrowsStep = rnd.nextInt(len);
        }
        if (childId >= 0 && rnd.nextDouble() < 0.03)
        {
            p.childStep = rnd.nextInt(len);
            p.child = generate(rnd, childId, shape, -1);
        }
        p.listenerThrows = rnd.nextDouble() < 0.02;
        final double b = rnd.nextDouble();
        p.blockSleepNanos = b < 0.5 ? 0 : b < 0.95 ? 20_000 + rnd.nextInt(180_000) : 500_000 + rnd.nextInt(1_500_000);
        return p;
    }

    int stepOf(final int stage)
    {
        for (int i = 0; i < path.length; i++)
        {
            if (path[i] == stage)
            {
                return i;
            }
        }
        return -1;
    }

    boolean cancels()
    {
        return cancelKind != C_NONE;
    }

    boolean hasDeadline()
    {
        return deadlineKind != D_NONE;
    }

    /** Whether the suspension may legitimately be withdrawn before its resumer gets to it. */
    boolean mayBeWithdrawn()
    {
        return cancels() || throwAfterSuspend;
    }

    /**
     * Whether the request can complete without an error: no definite fault on the steps it walks
     * until it is done.
     */
    boolean successPossible()
    {
        for (int s = 0; s < path.length; s++)
        {
            final int stage = path[s];
            if (keyFault[stage] != NONE || stepFault[s] != NONE || holdThrowsStep == s)
            {
                return false;
            }
            if (stage == SU)
            {
                if (resumeKind == R_NEVER || resumeOutcome == O_FAIL)
                {
                    return false;
                }
                if (resumeOutcome == O_DONE)
                {
                    return true;
                }
            }
        }
        return true;
    }

    /**
     * @param code a fault code
     * @return whether the plan injects that fault somewhere
     */
    boolean mayFailWith(final byte code)
    {
        if (code == NONE)
        {
            return false;
        }
        for (int s = 0; s < path.length; s++)
        {
            if (stepFault[s] == code || keyFault[path[s]] == code)
            {
                return true;
            }
        }
        return switch (code)
        {
            case RESUME_FAIL -> resumeKind >= 0 && resumeOutcome == O_FAIL;
            case AFTER_SUSPEND -> throwAfterSuspend;
            case HOLD_THROWS -> holdThrowsStep >= 0;
            default -> false;
        };
    }

    static String faultName(final byte code)
    {
        return code >= 0 && code < FAULT_NAMES.length ? FAULT_NAMES[code] : "fault#" + code;
    }

    @Override
    public String toString()
    {
        final StringBuilder s = new StringBuilder(probe ? "probe " : "").append("#").append(id).append(" path=[");
        for (int i = 0; i < path.length; i++)
        {
            s.append(i == 0 ? "" : ",").append(STAGE_NAMES[path[i]]);
            if (stepFault[i] != NONE)
            {
                s.append("!").append(faultName(stepFault[i]));
            }
            if (keyFault[path[i]] != NONE)
            {
                s.append("!key:").append(faultName(keyFault[path[i]]));
            }
        }
        s.append("]");
        if (resumeKind >= 0)
        {
            s.append(" resume=").append(RESUME_NAMES[resumeKind]).append("/").append(OUTCOME_NAMES[resumeOutcome])
                .append("/").append(resumeDelayNanos / 1000).append("us");
            if (throwAfterSuspend)
            {
                s.append(" throwAfterSuspend");
            }
        }
        if (cancelKind != C_NONE)
        {
            s.append(" cancel=").append(CANCEL_NAMES[cancelKind]);
            if (cancelKind == C_SELF)
            {
                s.append("@step").append(cancelStep);
            }
            else if (cancelKind == C_EXTERNAL || cancelKind == C_TIMER)
            {
                s.append("/").append(cancelDelayNanos / 1000).append("us");
            }
        }
        if (deadlineKind != D_NONE)
        {
            s.append(" deadline=").append(DEADLINE_NAMES[deadlineKind]);
        }
        if (lockKeys != null)
        {
            s.append(" lockKeys=").append(java.util.Arrays.toString(lockKeys)).append(lockReleaseAtOnce ? "(at once)" : "");
        }
        if (stepOf(LK2) >= 0)
        {
            s.append(" lock2Key=").append(lock2Key);
        }
        if (bufAllocStep >= 0)
        {
            s.append(" buffer@").append(bufAllocStep).append("..").append(bufReleaseStep < 0 ? "abandoned" : bufReleaseStep);
        }
        if (holdThrowsStep >= 0)
        {
            s.append(" holdThrows@").append(holdThrowsStep);
        }
        if (child != null)
        {
            s.append(" child#").append(child.id).append("@").append(childStep);
        }
        if (listenerThrows)
        {
            s.append(" listenerThrows");
        }
        if (slowEntryKeyMicros > 0)
        {
            s.append(" slowEntryKey=").append(slowEntryKeyMicros).append("us");
        }
        return s.toString();
    }
}
