"""seismag.layout.forecast: scores.csv has one reader, used by skill and by the figures alike."""

import numpy as np
import pytest

from seismag.errors import DataError
from seismag.layout.forecast import SCORE_COLUMNS, read_scores

HEADER = ",".join(SCORE_COLUMNS)


def write(path, *rows, header=HEADER):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def row(station="AAA", day="2020-01-01", model="gru_7day", p="0.5", lat="40.0"):
    return f"{station},{lat},140.0,{day},{model},{p},0.01,0.0,false"


def readers():
    from seismag.evaluation import skill
    from seismag.plots import skill_files

    return {"layout": read_scores, "skill": skill.read_scores, "plots": skill_files.read_scores}


@pytest.mark.parametrize("lines, header, words", [
    ([row(), row()], HEADER, "line 3: a second row for model gru_7day, station AAA, window_end 2020-01-01"),
    ([row(), row(day="2020-01-02", lat="41")], HEADER, "line 3: station AAA at 41, 140, but at 40, 140 on line 2"),
    ([row()], HEADER.replace("latitude", "lat"), "line 1: missing column latitude"),
    ([row(day="2020-02-30")], HEADER, "line 2: window_end '2020-02-30' is not a date YYYY-MM-DD"),
    ([], HEADER, "no score rows"),
])
@pytest.mark.parametrize("reader", ["layout", "skill", "plots"])
def test_every_reader_refuses_what_the_one_reader_refuses(tmp_path, reader, lines, header, words):
    path = write(tmp_path / "scores.csv", *lines, header=header)
    with pytest.raises(DataError) as info:
        readers()[reader](path)
    message = str(info.value)
    assert message.startswith(str(path)) and words in message and "\n" not in message


def test_the_figures_get_the_rows_the_reader_read(tmp_path):
    path = write(tmp_path / "scores.csv", row(station="BBB", lat="41", day="2020-01-02", p=""),
                 row(day="2020-01-02", p="0.25"), row(day="2020-01-01", p="1"), row(model="lstm_7day", p="0.1"))
    table = readers()["plots"](path)
    assert table.path == str(path) and table.models == ("gru_7day", "lstm_7day") and len(table) == 4
    # by model, then station (in order of first appearance: BBB first), then window end
    assert table.station.tolist() == ["BBB", "AAA", "AAA", "AAA"]
    assert table.window_end.astype(str).tolist() == ["2020-01-02", "2020-01-01", "2020-01-02", "2020-01-01"]
    assert table.model.tolist() == ["gru_7day"] * 3 + ["lstm_7day"]
    assert np.isnan(table.prob_class1[0]) and table.prob_class1[1:].tolist() == [1.0, 0.25, 0.1]
    assert table.in_sample.dtype == bool and not table.in_sample.any()
