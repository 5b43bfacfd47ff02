"""A channel's queue when its contacts differ in priority: one FIFO deque per rank.

The model keeps a plain `deque` per channel while every contact of it has the same rank (the
common case costs nothing). When reasons have priorities, or callbacks wait beside live callers,
the channel gets a `RankedQueue` instead: it offers the few deque operations the model uses
(`append`, `popleft`, `[0]`, truth and length), so the hot paths need no second version.
Service is non-preemptive: ranks only decide who is answered next.

Abandonment stays lazy: an expired contact is dropped when it reaches the head of its rank's
deque; contacts of a lower rank behind a waiting higher-rank contact are not looked at.
"""

from __future__ import annotations

from collections import deque


class RankedQueue:
    """FIFO within a rank, lower rank first; `rank_of(i)` gives contact i's rank (0 … n_ranks − 1)."""

    __slots__ = ("ranks", "rank_of")

    def __init__(self, n_ranks: int, rank_of):
        self.ranks = [deque() for _ in range(n_ranks)]
        self.rank_of = rank_of

    def append(self, i: int) -> None:
        self.ranks[self.rank_of(i)].append(i)

    def _first(self) -> deque | None:
        for queue in self.ranks:
            if queue:
                return queue
        return None

    def __bool__(self) -> bool:
        return self._first() is not None

    def __len__(self) -> int:
        return sum(len(q) for q in self.ranks)

    def __getitem__(self, k: int) -> int:
        if k != 0:
            raise IndexError("a RankedQueue only shows its head")
        queue = self._first()
        if queue is None:
            raise IndexError("empty queue")
        return queue[0]

    def popleft(self) -> int:
        queue = self._first()
        if queue is None:
            raise IndexError("empty queue")
        return queue.popleft()

    def ahead(self, rank: int) -> int:
        """Contacts a newcomer of `rank` would wait behind (its own rank and better; expired ones not yet dropped included)."""
        return sum(len(q) for q in self.ranks[:rank + 1])

    def eligible(self, now: float, cutoff: float, deadline, queued) -> int:
        """The best rank whose first live contact entered the queue at or before `cutoff` (-1 if none).

        Within a rank the head waited longest, so the head decides for the whole rank. Expired heads are dropped.
        """
        for k, queue in enumerate(self.ranks):
            while queue and deadline[queue[0]] <= now:
                queue.popleft()
            if queue and queued[queue[0]] <= cutoff:
                return k
        return -1

    def pop_rank(self, k: int) -> int:
        return self.ranks[k].popleft()


def eligible_head(queue, now: float, cutoff: float, deadline, queued) -> tuple[int, int] | None:
    """(contact, rank) of the first contact of `queue` that waited since `cutoff` or earlier, or None (the
    contact is not removed). A plain deque is FIFO, so its live head decides (rank -1)."""
    if isinstance(queue, RankedQueue):
        k = queue.eligible(now, cutoff, deadline, queued)
        return None if k < 0 else (queue.ranks[k][0], k)
    while queue and deadline[queue[0]] <= now:
        queue.popleft()
    if queue and queued[queue[0]] <= cutoff:
        return queue[0], -1
    return None


def pop_head(queue, rank: int) -> int:
    """Remove the contact `eligible_head` found."""
    return queue.popleft() if rank < 0 else queue.pop_rank(rank)


def waiting_ahead(queue, rank: int) -> int:
    """Contacts a newcomer of `rank` would wait behind."""
    return queue.ahead(rank) if isinstance(queue, RankedQueue) else len(queue)
