"""Every default number of seismag, written once.

The library's functions take these as their defaults; the command line leaves its
options unset so the library's defaults apply, and writes its help from these names;
the README quotes them. A change here changes every path at once.

May import: nothing (a leaf: plain numbers and names).
"""

from __future__ import annotations

#: The SPEC's window lengths, days.
WINDOWS: tuple[int, ...] = (7, 14, 30)

#: Observatory records' resolution: one value a minute (IAGA-2002 and ImagCDF minute files).
MINUTES_PER_DAY = 1440

#: Samples per day: one a minute. Also what a seed-layout folder without dataset.json holds.
STEPS_PER_DAY = MINUTES_PER_DAY

#: A window may miss at most this share of its samples (gaps up to it are interpolated);
#: build drops windows beyond it, scan leaves their score empty.
MAX_MISSING = 0.1

#: The smallest magnitude that makes a window class 1 (build) and a target (skill).
MIN_MAGNITUDE = 5.5

#: Label horizon after a window's end, days: a window precedes an earthquake when one
#: happens within this many days after it. A week is the horizon most geomagnetic-precursor
#: studies look at (ULF anomalies reported days to ~2 weeks ahead), and it gives each event
#: several class-1 windows per station at a 1-day stride.
LEAD_DAYS = 7

#: How far from a station an event labels its windows: the Dobrovolsky radius 10^(0.43 M) km.
RADIUS = "dobrovolsky"

#: Days between the starts of consecutive windows of one station (build).
STRIDE_DAYS = 1

#: ``seismag explain``: integrated-gradient steps from the neutral window (a midpoint Riemann sum).
EXPLAIN_IG_STEPS = 16

#: ``seismag explain --scores``: the alarm days (and as many quiet days) of a scan explained.
EXPLAIN_TOP_DAYS = 20
