package io.millrace.demo;

import io.millrace.log.GroupCommitStats;

/**
 * The durable logs' counters in the Prometheus text format: the group commit's (summed over the
 * workers and the sync thread, read without locks) and the number of topics.
 */
final class LogText
{
    private LogText()
    {
    }

    static void render(final GroupCommitStats s, final int topics, final StringBuilder out)
    {
        family(out, "millrace_log_appends_total", "Appends acknowledged by the group commit (/log and /kv), failed ones included.",
            "counter", s.appends());
        family(out, "millrace_log_append_failures_total", "Appends acknowledged with an error (the write or the force failed).",
            "counter", s.failed());
        family(out, "millrace_log_commit_turns_total", "Worker turns that wrote appends (one gathering write per log each).",
            "counter", s.turns());
        family(out, "millrace_log_forces_total", "Forces (fdatasync) run by the group commit.", "counter", s.forces());
        family(out, "millrace_log_largest_batch", "Most appends one force acknowledged.", "gauge", s.largestBatch());
        family(out, "millrace_log_sync_waits_total", "Times a worker waited for the sync thread to hand entries back.", "counter",
            s.syncWaits());
        family(out, "millrace_log_topics", "Topics in the data directory (found at start or created since).", "gauge", topics);
    }

    private static void family(final StringBuilder out, final String name, final String help, final String type, final long value)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
            .append("# TYPE ").append(name).append(' ').append(type).append('\n')
            .append(name).append(' ').append(value).append('\n');
    }
}
