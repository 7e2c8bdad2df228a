package io.millrace.http;

/** Entries from least to most recently used, linked through the entries themselves. */
final class EntryList
{
    CachedFile oldest;
    CachedFile newest;
    int count;

    void addNewest(final CachedFile e)
    {
        e.older = newest;
        e.newer = null;
        if (newest != null)
        {
            newest.newer = e;
        }
        else
        {
            oldest = e;
        }
        newest = e;
        count++;
    }

    void unlink(final CachedFile e)
    {
        if (e.older != null)
        {
            e.older.newer = e.newer;
        }
        else
        {
            oldest = e.newer;
        }
        if (e.newer != null)
        {
            e.newer.older = e.older;
        }
        else
        {
            newest = e.older;
        }
        e.older = null;
        e.newer = null;
        count--;
    }

    void moveToNewest(final CachedFile e)
    {
        if (newest != e)
        {
            unlink(e);
            addNewest(e);
        }
    }
}
