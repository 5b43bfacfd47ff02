"""Named events pooled over their occurrences (used by calibrate/season.py, which finds them).

Per event and channel: multiplier = Σ fresh ÷ Σ baseline over the occurrences' days, with a 95% CI
from the variance gathered while finding them (Poisson, day-to-day spread and the baseline's own
error); the ramps (mean over occurrences); the event's own intraday shape and reason mix where a
chi-square test rejects the ordinary ones (``shape_differs``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["pool_events"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def pool_events(found, channels, slots, base, weekday, season_channels, fresh, dates, shape_differs, mix_of):
    """Pool each event's occurrences: per-channel multiplier with CI, ramps, own shape and reason mix."""
    by_name: dict[str, list] = {}
    for item in found:
        by_name.setdefault(item[0].name, []).append(item)
    events, rows = [], []
    local_day = fresh["created_at"].dt.tz_localize(None).dt.normalize()
    for name, items in by_name.items():
        days = [i for item in items for i in item[1]]
        O = sum(item[2] for item in items)
        E = sum(item[3] for item in items)
        var = sum(item[4] for item in items)
        mult = O / np.maximum(E, 1e-9)
        sd = np.sqrt(var) / np.maximum(E, 1e-9)
        event = {"name": name, "source": items[0][0].source,
                 "occurrences": [{"date": dates[item[1][0]].date(), "end": dates[item[1][-1]].date()} for item in items],
                 "ramp_before": int(round(np.mean([item[5] for item in items]))),
                 "ramp_after": int(round(np.mean([item[6] for item in items]))),
                 "days": len(items[0][1]), "multipliers": {}, "ci": {}}
        for c, channel in enumerate(channels):
            if E[c] <= 0:
                continue
            event["multipliers"][channel] = round(float(mult[c]), 4)
            event["ci"][channel] = [round(float(max(mult[c] - 1.96 * sd[c], 0.0)), 4),
                                    round(float(mult[c] + 1.96 * sd[c]), 4)]
            sc = season_channels[channel]
            shares = np.tile(np.asarray(sc["intraday"]), (7, 1))
            for w, shape in (sc.get("intraday_by_weekday") or {}).items():
                shares[WEEKDAYS.index(w)] = shape
            observed = slots[c, days].sum(axis=0)
            expected = (base[c, days][:, None] * shares[weekday[days]]).sum(axis=0)
            own_shape = shape_differs(observed, expected / expected.sum() if expected.sum() > 0 else expected)
            if own_shape:
                event.setdefault("intraday", {})[channel] = [round(float(v), 6) for v in observed / observed.sum()]
            mine = (fresh["channel"].astype(str) == channel) & local_day.isin(dates[days])
            counts = fresh.loc[mine, "reason"].astype("string").fillna("general").value_counts()
            usual = sc.get("reasons")
            own_mix = False
            if usual and counts.sum() >= 20:
                names = sorted(set(usual) | set(counts.index))
                share = np.array([usual.get(r, 0.0) for r in names])
                own_mix = shape_differs(counts.reindex(names, fill_value=0).to_numpy(float), share / share.sum())
                if own_mix:
                    event.setdefault("reason_mix", {})[channel] = mix_of(counts)
            rows.append({"event": name, "source": event["source"], "channel": channel,
                         "first": str(event["occurrences"][0]["date"]), "last": str(event["occurrences"][-1]["end"]),
                         "occurrences": len(items), "days": len(days), "fresh": float(O[c]), "baseline": float(E[c]),
                         "multiplier": float(mult[c]), "multiplier_lo": event["ci"][channel][0],
                         "multiplier_hi": event["ci"][channel][1], "ramp_before": event["ramp_before"],
                         "ramp_after": event["ramp_after"], "own_intraday": own_shape, "own_reason_mix": own_mix})
        events.append(event)
    return events, rows
