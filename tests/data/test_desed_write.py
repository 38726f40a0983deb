"""TSV writers: exact text, round trips through the readers, atomic and deterministic output."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import (
    StrongLabels,
    read_durations_tsv,
    read_strong_tsv,
    read_unlabeled_tsv,
    read_weak_tsv,
    write_durations_tsv,
    write_strong_tsv,
    write_unlabeled_tsv,
    write_weak_tsv,
)


def events_frame(rows):
    return pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])


def test_strong_text(tmp_path):
    labels = StrongLabels(
        events_frame([("b.wav", 5.0, 6.25, "Dog"), ("a.wav", 0.1234, 10.0, "Frying"), ("b.wav", 1.0, 2.0, "Speech")]),
        filenames=("b.wav", "silent.wav", "a.wav"),
    )
    path = tmp_path / "out" / "strong.tsv"
    write_strong_tsv(path, labels)
    assert path.read_text() == (
        "filename\tonset\toffset\tevent_label\n"
        "b.wav\t1.000\t2.000\tSpeech\n"
        "b.wav\t5.000\t6.250\tDog\n"
        "silent.wav\t\t\t\n"
        "a.wav\t0.123\t10.000\tFrying\n"
    )
    back = read_strong_tsv(path)
    assert back.filenames == labels.filenames
    assert back.events["onset"].tolist() == [0.123, 1.0, 5.0]
    assert [p.name for p in path.parent.iterdir()] == ["strong.tsv"]  # no temporary file left


def test_strong_labels_validate_their_input():
    with pytest.raises(ValueError, match="lack column"):
        StrongLabels(pd.DataFrame({"filename": ["a.wav"], "onset": [0.0]}))
    with pytest.raises(ValueError, match="missing from filenames"):
        StrongLabels(events_frame([("a.wav", 0.0, 1.0, "Dog")]), filenames=("b.wav",))
    with pytest.raises(ValueError, match="unique"):
        StrongLabels(events_frame([]), filenames=("b.wav", "b.wav"))
    assert StrongLabels(events_frame([("b.wav", 0.0, 1.0, "Dog"), ("a.wav", 0.0, 1.0, "Cat")])).filenames == ("b.wav", "a.wav")


def test_strong_writer_refuses_what_the_format_cannot_hold(tmp_path):
    path = tmp_path / "strong.tsv"
    path.write_text("previous content")
    with pytest.raises(ValueError, match="shorter than the format's 1 ms"):
        write_strong_tsv(path, StrongLabels(events_frame([("a.wav", 1.0, 1.0002, "Dog")])))
    with pytest.raises(ValueError, match="tab or a line break"):
        write_strong_tsv(path, StrongLabels(events_frame([("a\tb.wav", 1.0, 2.0, "Dog")])))
    assert path.read_text() == "previous content"


times_ms = st.integers(min_value=0, max_value=11_000)
event = st.tuples(st.sampled_from(["x.wav", "y.wav", "z.wav"]), times_ms, st.integers(1, 3000), st.sampled_from(DESED_CLASSES))


@settings(max_examples=60, deadline=None)
@given(st.lists(event, max_size=12), st.booleans())
def test_strong_round_trip(tmp_path_factory, rows, with_silent_clip):
    """Millisecond times survive write -> read exactly (same-class overlaps excluded: the reader merges them)."""
    rows = [(name, onset / 1000, (onset + length) / 1000, label) for name, onset, length, label in rows]
    kept = []
    for row in rows:
        if not any(row[0] == k[0] and row[3] == k[3] and row[1] <= k[2] and k[1] <= row[2] for k in kept):
            kept.append(row)
    filenames = tuple(dict.fromkeys(row[0] for row in kept)) + (("silent.wav",) if with_silent_clip else ())
    labels = StrongLabels(events_frame(kept), filenames=filenames)
    path = tmp_path_factory.mktemp("strong") / "labels.tsv"
    write_strong_tsv(path, labels)
    back = read_strong_tsv(path)
    assert back.filenames == labels.filenames
    pd.testing.assert_frame_equal(back.events, labels.events)


def test_weak_round_trip(tmp_path):
    weak = pd.DataFrame({"filename": ["b.wav", "a.wav", "c.wav"], "event_labels": [("Speech", "Dog"), (), "Cat,Blender"]})
    path = tmp_path / "weak.tsv"
    write_weak_tsv(path, weak)
    assert path.read_text() == "filename\tevent_labels\nb.wav\tSpeech,Dog\na.wav\t\nc.wav\tCat,Blender\n"
    back = read_weak_tsv(path)
    assert back["event_labels"].tolist() == [("Dog", "Speech"), (), ("Blender", "Cat")]
    with pytest.raises(ValueError, match="duplicate clip 'b.wav'"):
        write_weak_tsv(path, pd.DataFrame({"filename": ["b.wav", "b.wav"], "event_labels": [("Dog",), ("Cat",)]}))
    with pytest.raises(ValueError, match="empty label"):
        write_weak_tsv(path, pd.DataFrame({"filename": ["b.wav"], "event_labels": [("Dog", "")]}))
    with pytest.raises(ValueError, match=r"lack column\(s\) \['event_labels'\]"):
        write_weak_tsv(path, pd.DataFrame({"filename": ["b.wav"]}))


def test_unlabeled_and_durations_round_trip(tmp_path):
    write_unlabeled_tsv(tmp_path / "unlabeled.tsv", ["b.wav", "a.wav"])
    assert (tmp_path / "unlabeled.tsv").read_text() == "filename\nb.wav\na.wav\n"
    assert read_unlabeled_tsv(tmp_path / "unlabeled.tsv") == ["b.wav", "a.wav"]
    with pytest.raises(ValueError, match="duplicate clip 'a.wav'"):
        write_unlabeled_tsv(tmp_path / "unlabeled.tsv", ["a.wav", "a.wav"])

    write_durations_tsv(tmp_path / "durations.tsv", {"b.wav": 10.0, "a.wav": 4.0625})
    assert (tmp_path / "durations.tsv").read_text() == "filename\tduration\nb.wav\t10.000\na.wav\t4.062\n"
    assert read_durations_tsv(tmp_path / "durations.tsv") == {"b.wav": 10.0, "a.wav": 4.062}
    for bad in (0.0, 0.0004, float("nan"), -1.0):
        with pytest.raises(ValueError, match="not a positive number of milliseconds"):
            write_durations_tsv(tmp_path / "durations.tsv", {"a.wav": bad})


def test_real_validation_round_trip_is_deterministic(desed_metadata, tmp_path):
    labels = read_strong_tsv(desed_metadata / "validation.tsv")
    write_strong_tsv(tmp_path / "first.tsv", labels)
    back = read_strong_tsv(tmp_path / "first.tsv")
    write_strong_tsv(tmp_path / "second.tsv", back)
    assert (tmp_path / "first.tsv").read_bytes() == (tmp_path / "second.tsv").read_bytes()
    assert back.filenames == labels.filenames
    pd.testing.assert_frame_equal(back.events, labels.events)
    assert len((tmp_path / "first.tsv").read_text().splitlines()) == 4240
