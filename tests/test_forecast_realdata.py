"""The season learner on real data: the Technion bank's full year of 6-minute arrival counts
(shared/data/technion-anonymous-bank/arrivals_6min_1999_rfssa.csv). Independent truth: the Israeli
holidays of 1999 (Hebrew calendar, checked by hand): the call centre was nearly closed on them."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from calibrate.season import learn_season
from conftest import DATA

FILE = DATA / "technion-anonymous-bank" / "arrivals_6min_1999_rfssa.csv"
HOLIDAYS = {"Passover": ["1999-04-01", "1999-04-07"], "Independence Day": ["1999-04-21"], "Shavuot": ["1999-05-21"],
            "Rosh Hashanah": ["1999-09-11", "1999-09-12"], "Yom Kippur": ["1999-09-20"]}


@pytest.fixture(scope="module")
def season():
    if not FILE.is_file():
        pytest.skip(f"real data absent: {FILE} (shared/data is not beside the repository)")
    raw = pd.read_csv(FILE)
    start = pd.to_datetime(raw["date"] + " " + raw["interval_start"])
    times = pd.DatetimeIndex(np.repeat(start.to_numpy(), np.round(raw["calls"]).astype(int)))
    fresh = pd.DataFrame({"channel": "voice", "reason": pd.NA,
                          "created_at": times.tz_localize("Asia/Jerusalem", ambiguous="NaT", nonexistent="shift_forward")})
    present = pd.DatetimeIndex(sorted(pd.to_datetime(raw["date"]).unique()))
    return learn_season(fresh.dropna(subset=["created_at"]), {"voice": "sync"}, present)


def test_israeli_holidays_are_found_as_unnamed_outliers_and_retail_days_are_not_events(season):
    found = {str(o["date"]) for o in season.outliers}
    for name, days in HOLIDAYS.items():
        assert set(days) <= found, name
        assert all(o["voice"] < 0.4 for o in season.outliers if str(o["date"]) in days)  # nearly closed
    assert season.events == []  # an Israeli bank in 1999: no Black Friday
    assert {e["name"] for e in season.not_found} >= {"Black Friday", "Singles Day", "Christmas Day"}


def test_the_bank_week_is_sunday_to_thursday(season):
    dow = season.channels["voice"]["day_of_week"]  # Monday first
    assert min(dow[i] for i in (6, 0, 1, 2, 3)) > 1.1 and dow[4] < 0.6 and dow[5] < 0.3
