package io.millrace.memory;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reference counts of descriptors, chunks and chains through append, prepend, slice and release. */
class BufferChainTest
{
    private final SlabArena arena = SlabArena.builder()
        .chunkSize(4096).slabSize(16 * 1024).initialSlabs(1).maxSlabs(4)
        .leakDetector(LeakDetector.paranoid())
        .build();
    private final BufferAllocator alloc = arena.newAllocator("t");

    private BufferDescriptor text(final String s)
    {
        final BufferDescriptor d = alloc.allocate();
        assertEquals(s.length(), d.put(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII))));
        return d;
    }

    private static String string(final BufferDescriptor d)
    {
        return StandardCharsets.US_ASCII.decode(d.readableBuffer()).toString();
    }

    private static String string(final BufferChain chain)
    {
        final StringBuilder sb = new StringBuilder();
        for (BufferDescriptor d = chain.first(); d != null; d = d.next())
        {
            sb.append(string(d));
        }
        return sb.toString();
    }

    @Test
    void appendAndPrependLinkInOrderAndReleaseFreesEverything()
    {
        final BufferDescriptor a = text("alpha ");
        final BufferDescriptor b = text("beta ");
        final BufferDescriptor c = text("gamma");
        final BufferChain chain = alloc.newChain().append(b).append(c).prepend(a);

        assertEquals(3, chain.size());
        assertEquals("alpha beta gamma", string(chain));
        assertEquals(16, chain.readableBytes());
        assertSame(a, chain.first());
        assertSame(c, chain.last());
        assertSame(b, c.prev());
        assertSame(a, b.prev());
        assertNull(a.prev());
        assertNull(c.next());
        for (final BufferDescriptor d : List.of(a, b, c))
        {
            assertEquals(1, d.refCnt(), "the chain took over the caller's reference");
            assertEquals(1, d.chunk.refCnt());
        }
        assertEquals(3, alloc.chunkStats().live());
        assertEquals(3, alloc.descriptorStats().live());
        assertEquals(1, alloc.chainStats().live());

        final List<Chunk> chunks = List.of(a.chunk, b.chunk, c.chunk);
        assertTrue(chain.release());
        assertEquals(0, chain.refCnt());
        for (final BufferDescriptor d : List.of(a, b, c))
        {
            assertEquals(0, d.refCnt());
        }
        for (final Chunk chunk : chunks)
        {
            assertEquals(0, chunk.refCnt());
        }
        assertEquals(0, alloc.chunkStats().live());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, alloc.chainStats().live());
        assertEquals(3, alloc.chunkStats().idle(), "the chunks are back in the allocator's pool");
    }

    @Test
    void aChunkReturnsToItsPoolExactlyWhenItsLastSliceIsReleased()
    {
        final BufferDescriptor whole = text("0123456789abcdefghijklmnopqrstuvwxyz");
        final Chunk chunk = whole.chunk;
        final BufferDescriptor digits = alloc.slice(whole, 0, 10);
        final BufferDescriptor letters = alloc.slice(whole, 10, 26);
        final BufferDescriptor xyz = alloc.slice(letters, 23, 3);

        assertEquals(4, chunk.refCnt(), "one count per descriptor pointing into the chunk");
        assertEquals(1, whole.refCnt());
        assertEquals(1, digits.refCnt());
        assertEquals("0123456789", string(digits));
        assertEquals("xyz", string(xyz));
        assertEquals(0, digits.writableBytes(), "a slice cannot grow");
        assertEquals(1, alloc.chunkStats().live());
        final long freesBefore = alloc.chunkStats().frees();

        assertTrue(whole.release());
        assertEquals(3, chunk.refCnt());
        assertEquals("abcdefghijklmnopqrstuvwxyz", string(letters), "the bytes outlive the descriptor they were written through");
        assertTrue(letters.release());
        assertTrue(digits.release());
        assertEquals(1, chunk.refCnt());
        assertEquals(1, alloc.chunkStats().live(), "not back while one slice remains");
        assertEquals(freesBefore, alloc.chunkStats().frees());

        assertTrue(xyz.release());
        assertEquals(0, chunk.refCnt());
        assertEquals(0, alloc.chunkStats().live());
        assertEquals(freesBefore + 1, alloc.chunkStats().frees(), "returned exactly once");
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void retainingTheChainKeepsEveryPieceAlive()
    {
        final BufferDescriptor head = text("head:");
        final BufferDescriptor body = text("body");
        final BufferDescriptor bodyAgain = alloc.slice(body);
        final BufferChain chain = alloc.newChain().append(head).append(body).append(bodyAgain);
        assertEquals(2, body.chunk.refCnt());

        assertSame(chain, chain.retain());
        assertEquals(2, chain.refCnt());
        assertFalse(chain.release());
        assertEquals("head:bodybody", string(chain), "still whole after one of two releases");
        assertEquals(1, head.refCnt());

        final Chunk shared = body.chunk;
        assertTrue(chain.release());
        assertEquals(0, head.refCnt());
        assertEquals(0, body.refCnt());
        assertEquals(0, bodyAgain.refCnt());
        assertEquals(0, shared.refCnt());
        assertEquals(0, alloc.chunkStats().live());
    }

    @Test
    void appendingAChainMovesItsPiecesInConstantTime()
    {
        final BufferChain first = alloc.newChain().append(text("a")).append(text("b"));
        final BufferChain second = alloc.newChain().append(text("c")).append(text("d"));
        first.append(second);
        assertEquals("abcd", string(first));
        assertEquals(4, first.size());
        assertTrue(second.isEmpty());
        assertEquals(1, second.refCnt(), "the emptied chain is still its holder's to release");
        assertSame(first.last().prev().prev(), first.first().next());
        assertTrue(second.release());
        assertEquals(4, alloc.descriptorStats().live());
        assertTrue(first.release());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, alloc.chunkStats().live());
    }

    @Test
    void removeFirstHandsTheReferenceBack()
    {
        final BufferDescriptor a = text("a");
        final BufferChain chain = alloc.newChain().append(a).append(text("b"));
        assertSame(a, chain.removeFirst());
        assertNull(a.next());
        assertEquals(1, chain.size());
        assertEquals(1, a.refCnt());
        assertTrue(a.release(), "out of the chain it may be released on its own");
        chain.release();
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void doubleReleaseThrowsAndNamesTheBuffer()
    {
        final BufferDescriptor d = text("x");
        final String name = d.toString().substring(0, d.toString().indexOf('['));
        assertTrue(d.release());
        final IllegalReferenceCountException ex = assertThrows(IllegalReferenceCountException.class, d::release);
        assertEquals(0, ex.refCnt());
        assertTrue(ex.getMessage().startsWith(name + " was already released: refCnt 0"), ex.getMessage());
        assertEquals(1, alloc.chunkStats().frees(), "the chunk was not given back twice");

        final BufferChain chain = alloc.newChain();
        chain.release();
        final IllegalReferenceCountException chainEx = assertThrows(IllegalReferenceCountException.class, chain::release);
        assertTrue(chainEx.getMessage().contains("chain t#"), chainEx.getMessage());
        assertEquals(1, alloc.chainStats().frees());
    }

    @Test
    void useAfterReleaseThrows()
    {
        final BufferDescriptor d = text("gone");
        d.release();
        assertThrows(IllegalReferenceCountException.class, d::readableBuffer);
        assertThrows(IllegalReferenceCountException.class, d::length);
        assertThrows(IllegalReferenceCountException.class, () -> d.put(ByteBuffer.allocate(1)));
        final IllegalReferenceCountException retain = assertThrows(IllegalReferenceCountException.class, d::retain);
        assertTrue(retain.getMessage().contains("retain() cannot bring it back"), retain.getMessage());
        assertThrows(IllegalReferenceCountException.class, () -> alloc.slice(d));

        final BufferChain chain = alloc.newChain();
        assertThrows(IllegalReferenceCountException.class, () -> chain.append(d), "a released descriptor cannot join a chain");
        chain.release();
        assertThrows(IllegalReferenceCountException.class, () -> chain.append(text("late")));
        assertThrows(IllegalReferenceCountException.class, chain::first);
    }

    @Test
    void aDescriptorInAChainIsReleasedByTheChainNotAlone()
    {
        final BufferDescriptor d = text("in a chain");
        final BufferChain chain = alloc.newChain().append(d);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, d::release);
        assertTrue(ex.getMessage().contains("still in a chain"), ex.getMessage());
        assertEquals(1, d.refCnt(), "the refused release changed nothing");

        d.retain();                       // a second holder of the descriptor itself
        assertFalse(d.release(), "giving up an extra reference is fine");
        assertThrows(IllegalArgumentException.class, () -> alloc.newChain().append(d), "one pair of links: one chain");
        chain.release();
        assertEquals(0, d.refCnt());
    }

    @Test
    void aSharedChainRefusesChangesAndDuplicateSharesTheBytes()
    {
        final BufferChain chain = alloc.newChain().append(text("cached "));
        chain.append(text("response"));
        chain.retain();
        final BufferDescriptor bang = text("!");
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> chain.append(bang));
        assertTrue(ex.getMessage().contains("BufferAllocator.duplicate()"), ex.getMessage());
        assertThrows(IllegalStateException.class, chain::removeFirst);

        final BufferChain copy = alloc.duplicate(chain);
        assertEquals("cached response", string(copy));
        assertEquals(2, chain.first().chunk.refCnt(), "the copy's descriptors point into the same chunks");
        copy.removeFirst().release();
        assertEquals("cached response", string(chain), "consuming the copy leaves the original alone");
        copy.release();
        chain.release();
        chain.release();
        // The refused append's descriptor was never linked: its caller still owns it.
        assertEquals(1, bang.refCnt());
        assertEquals(1, alloc.chunkStats().live());
        bang.release();
        assertEquals(0, alloc.chunkStats().live());
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void buffersReleasedOnAnotherThreadReturnToTheOwnersPools() throws InterruptedException
    {
        final List<BufferDescriptor> taken = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            taken.add(text("x" + i));
        }
        final BufferChain chain = alloc.newChain().append(taken.get(0)).append(taken.get(1));
        final BufferDescriptor loose = taken.get(2);
        final Thread other = new Thread(() ->
        {
            chain.release();
            loose.release();
        });
        other.start();
        other.join();
        assertEquals(3, alloc.chunkStats().live(), "in the owner's merge queue until the owner drains it");
        assertEquals(3, alloc.descriptorStats().live());
        alloc.onIdle(0);
        assertEquals(0, alloc.chunkStats().live());
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, alloc.chainStats().live());
        // The owner deallocated them itself, so they went into its pools directly, not through return queues.
        assertEquals(3, alloc.chunkStats().frees());
        assertEquals(3, alloc.descriptorStats().frees());
        assertEquals(1, alloc.chainStats().frees());
        assertEquals(0, alloc.descriptorStats().returns());
    }

    @Test
    void onlyTheOwnerAllocates() throws InterruptedException
    {
        alloc.allocate().release();
        final Throwable[] thrown = new Throwable[1];
        final Thread other = new Thread(() ->
        {
            try
            {
                alloc.allocate();
            }
            catch (final Throwable t)
            {
                thrown[0] = t;
            }
        }, "intruder");
        other.start();
        other.join();
        assertTrue(thrown[0] instanceof IllegalStateException, String.valueOf(thrown[0]));
        assertTrue(thrown[0].getMessage().contains("intruder"), thrown[0].getMessage());
    }
}
