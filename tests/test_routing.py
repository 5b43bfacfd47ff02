"""Tiny deterministic cases: exact routing order, priorities, concurrency, shift ends, abandonment."""

import math


from conftest import channel, group, tiny_centre


def answered(cols):
    return [(None if math.isnan(a) else a, int(g)) for a, g in zip(cols["answered"], cols["group"])]


def test_longest_idle_agent_first_then_fifo_queue():
    # two single-agent groups: group 0 is created first, so it has been idle longest
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 0, 10), (2, 0, 10), (3, 0, 10)],
        [channel()], [group("a", [[0]], 1), group("b", [[0]], 1)])
    assert answered(cols) == [(0, 0), (1, 1), (10, 0), (11, 1)]
    assert list(cols["end"]) == [10, 11, 20, 21]


def test_agent_takes_higher_priority_skill_before_longer_waiting_contact():
    # agent busy until 10; email (priority 2) waits since 1, voice (priority 1) since 5
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 1, 10), (5, 0, 10)],
        [channel("voice"), channel("email")], [group("a", [[0], [1]], 1)])
    assert answered(cols) == [(0, 0), (20, 0), (10, 0)]


def test_equal_priority_takes_longest_waiting_contact():
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 1, 10), (5, 0, 10)],
        [channel("voice"), channel("email")], [group("a", [[0, 1]], 1)])
    assert answered(cols) == [(0, 0), (10, 0), (20, 0)]


def test_chat_concurrency_scales_handle_time_by_contacts_held():
    # concurrency 2, second chat runs 1.5x slower; third chat waits for a free slot
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 0, 10), (2, 0, 10)],
        [channel("chat", concurrency=2, factors=[1.0, 1.5])], [group("a", [[0]], 1)])
    assert answered(cols) == [(0, 0), (1, 0), (10, 0)]
    # chat 0: 10 s alone; chat 1: answered holding 2 → 15 s; chat 2: answered at 10 holding 2 → 15 s
    assert list(cols["end"]) == [10, 16, 25]


def test_voice_agent_holding_chats_takes_no_voice():
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 1, 3)],
        [channel("chat", concurrency=3), channel("voice")], [group("a", [[0, 1]], 1)])
    assert answered(cols) == [(0, 0), (10, 0)]


def test_proficiency_multiplies_handle_time():
    _, cols = tiny_centre([(0, 0, 10)], [channel()], [group("new", [[0]], 1, proficiency=1.5)])
    assert list(cols["end"]) == [15]


def test_shift_end_agent_finishes_current_contact_then_leaves():
    # one agent until t=5; the contact in service at 5 completes at 10, the queued one is never answered
    centre, cols = tiny_centre(
        [(0, 0, 10), (1, 0, 10)], [channel()],
        [group("a", [[0]], 1, times=[0, 5], counts=[1, 0])], horizon=100)
    assert answered(cols) == [(0, 0), (None, -1)]
    staffed = centre.staffed.columns()
    assert list(staffed["start"]) == [0] and list(staffed["end"]) == [10]


def test_idle_agent_leaves_at_shift_end_and_new_agent_picks_up_queue():
    centre, cols = tiny_centre(
        [(6, 0, 10)], [channel()],
        [group("a", [[0]], 1, times=[0, 5, 8], counts=[1, 0, 1])], horizon=100)
    assert answered(cols) == [(8, 0)]
    staffed = centre.staffed.columns()
    assert list(zip(staffed["start"], staffed["end"])) == [(0, 5), (8, 100)]


def test_abandonment_at_deadline_and_next_contact_served():
    # agent busy until 10; contact 1 has patience 4 (leaves at 5), contact 2 patience 100
    _, cols = tiny_centre(
        [(0, 0, 10), (1, 0, 10, 4), (2, 0, 10, 100)], [channel()], [group("a", [[0]], 1)])
    assert answered(cols) == [(0, 0), (None, -1), (10, 0)]
    assert cols["deadline"][1] == 5


def test_closed_channel_waits_for_opening():
    _, cols = tiny_centre(
        [(1, 0, 10)], [channel("email", open_times=[(0, False), (50, True)])], [group("a", [[0]], 1)])
    assert answered(cols) == [(50, 0)]


def test_busy_time_counts_time_with_at_least_one_contact_per_interval():
    # two overlapping chats busy the agent 0–15; a call 25–35 straddles the 30 s boundary
    centre, _ = tiny_centre(
        [(0, 0, 10), (5, 0, 10), (25, 0, 10)], [channel("chat", concurrency=2)], [group("a", [[0]], 1)],
        horizon=60, interval=30)
    assert centre.busy_seconds == [[20.0, 5.0]]
