"""TSV readers: every bad input gets an error naming file, line and problem; merging; the real DESED files."""

import re
import warnings

import numpy as np
import pytest

from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import (
    TsvFormatError,
    read_durations_tsv,
    read_strong_tsv,
    read_unlabeled_tsv,
    read_weak_tsv,
)

STRONG_HEADER = "filename\tonset\toffset\tevent_label\n"


def write(tmp_path, text, name="labels.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_error(error_info, path, line_no, *fragments):
    message = str(error_info.value)
    assert message.startswith(f"{path}:{line_no}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# --------------------------------------------------------------------------- strong: bad input


@pytest.mark.parametrize(
    "body, line_no, fragments",
    [
        ("a.wav\t2.0\t1.0\tDog\n", 2, ["offset 1.0 is not after onset 2.0"]),
        ("a.wav\t1.5\t1.5\tDog\n", 2, ["offset 1.5 is not after onset 1.5"]),
        ("a.wav\t-0.5\t1.0\tDog\n", 2, ["onset -0.5 is negative"]),
        ("a.wav\tinf\t1.0\tDog\n", 2, ["onset 'inf' is not a finite number"]),
        ("a.wav\t0.0\tnan\tDog\n", 2, ["offset 'nan' is not a finite number"]),
        ("a.wav\t0.0\t1.2.3\tDog\n", 2, ["offset '1.2.3' is not a finite number"]),
        ("a.wav\tzero\t1.0\tDog\n", 2, ["onset 'zero' is not a finite number"]),
        ("a.wav\t0.0\t1.0\tDogs\n", 2, ["unknown event_label 'Dogs'", "did you mean 'Dog'?"]),
        ("a.wav\t0.0\t1.0\tspeech\n", 2, ["unknown event_label 'speech'", "did you mean 'Speech'?"]),
        ("a.wav\t0.0\t1.0\tHelicopter\n", 2, ["unknown event_label 'Helicopter'", "known labels: Alarm_bell_ringing, Blender"]),
        ("a.wav\t0.0\t1.0\tDog\nb.wav\t0.0\t1.0\tCat\na.wav\t0.000\t1.000\tDog\n", 4, ["duplicate event (first on line 2)"]),
        ("a.wav\t\t\t\nb.wav\t0\t1\tCat\na.wav\t\t\t\n", 4, ["duplicate no-event row (first on line 2)"]),
        ("a.wav\t0.0\t1.0\tDog\na.wav\t\t\t\n", 3, ["clip 'a.wav' has this no-event row but also events (line 2)"]),
        ("a.wav\t0.0\t\tDog\n", 2, ["empty offset: an event needs onset, offset and event_label"]),
        ("a.wav\t\t\tDog\n", 2, ["empty onset, offset"]),
        ("\t0.0\t1.0\tDog\n", 2, ["empty filename"]),
        ("a.wav\t0.0\t1.0\tDog\textra\n", 2, ["expected 4 tab-separated field(s)", "found 5"]),
        ("a.wav\t0.0\t1.0\n", 2, ["expected 4 tab-separated field(s)", "found 3"]),
        ("a.wav,0.0,1.0,Dog\n", 2, ["found 1", "expected tab-separated, this line looks comma-separated"]),
        ("a.wav 0.0 1.0 Dog\n", 2, ["found 1", "looks space-separated"]),
    ],
)
def test_strong_bad_rows(tmp_path, body, line_no, fragments):
    path = write(tmp_path, STRONG_HEADER + body)
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, line_no, *fragments)
    assert error.value.line_no == line_no and error.value.path == path


@pytest.mark.parametrize(
    "header, fragments",
    [
        ("filename\tonset\tevent_label\n", ["missing column(s) ['offset']", "expected 'filename<TAB>onset<TAB>offset<TAB>event_label'"]),
        ("filename\tonset\toffset\tevent_label\tscore\n", ["unexpected column(s) ['score']"]),
        ("filename,onset,offset,event_label\n", ["expected the tab-separated header", "looks comma-separated"]),
        ("filename onset offset event_label\n", ["looks space-separated"]),
        ("filename;onset;offset;event_label\n", ["looks semicolon-separated"]),
        ("filename\toffset\tonset\tevent_label\n", ["wrong order"]),
        ("filename\tevent_labels\n", ["missing column(s) ['onset', 'offset', 'event_label']", "(this is a weak-label file)"]),
        ("a.wav\t0.0\t1.0\tDog\n", ["the first line must be the header"]),
    ],
)
def test_strong_bad_header(tmp_path, header, fragments):
    path = write(tmp_path, header + "b.wav\t0.0\t1.0\tCat\n")
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 1, *fragments)


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere" / "labels.tsv"
    for reader in (read_strong_tsv, read_weak_tsv, read_unlabeled_tsv, read_durations_tsv):
        with pytest.raises(FileNotFoundError, match=re.escape(f"{path}: file not found")):
            reader(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 1, "empty file", "filename<TAB>onset")


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_bytes(STRONG_HEADER.encode() + b"a.wav\t0\t1\tDog\nb\xff.wav\t0\t1\tDog\n")
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 3, "not UTF-8")


def test_several_bad_lines_are_counted(tmp_path):
    body = "a.wav\t0\t1\tDog\nb.wav\t0\t1\tDogz\nc.wav\t0\t1\tCat\nd.wav\t0\t1\tKat\ne.wav\t0\t1\tDogz\n"
    path = write(tmp_path, STRONG_HEADER + body)
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 3, "unknown event_label 'Dogz'", "(3 lines with this problem: 3, 5, 6)")


def test_blank_lines_and_crlf_keep_line_numbers(tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + (STRONG_HEADER + "a.wav\t0\t1\tDog\n\n\nb.wav\t2\t1\tDog\n").replace("\n", "\r\n").encode())
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 5, "offset 1 is not after onset 2")


def test_durations_bound_the_events(tmp_path):
    path = write(tmp_path, STRONG_HEADER + "a.wav\t0.0\t4.0005\tDog\nb.wav\t1.0\t4.2\tCat\nc.wav\t\t\t\n")
    durations = {"a.wav": 4.0, "b.wav": 4.0, "c.wav": 10.0}
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path, durations=durations)
    assert_error(error, path, 3, "event Cat ends at 4.200 s, past the clip's duration 4.000 s")
    labels = read_strong_tsv(path, durations=durations, duration_tolerance_s=0.25)  # a.wav: within the default 1 ms
    assert labels.events["offset"].tolist() == [4.0005, 4.2]
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path, durations={"a.wav": 4.0, "b.wav": 4.5})
    assert_error(error, path, 4, "clip 'c.wav' has no duration")


def test_custom_classes(tmp_path):
    path = write(tmp_path, STRONG_HEADER + "a.wav\t0\t1\tsiren\n")
    assert read_strong_tsv(path, classes=("siren", "horn")).events["event_label"].tolist() == ["siren"]
    with pytest.raises(TsvFormatError, match="unknown event_label 'siren'"):
        read_strong_tsv(path)


# --------------------------------------------------------------------------- strong: content


def test_strong_content_and_order(tmp_path):
    body = "b.wav\t5.0\t6.0\tDog\nb.wav\t1.0\t2.5\tSpeech\nquiet.wav\t\t\t\na.wav\t0.25\t10\tFrying\n"
    labels = read_strong_tsv(write(tmp_path, STRONG_HEADER + body))
    assert labels.filenames == ("b.wav", "quiet.wav", "a.wav")
    events = labels.events
    assert events.columns.tolist() == ["filename", "onset", "offset", "event_label"]
    assert events["onset"].dtype == np.float64 and events["offset"].dtype == np.float64
    assert list(events.itertuples(index=False, name=None)) == [
        ("a.wav", 0.25, 10.0, "Frying"),
        ("b.wav", 1.0, 2.5, "Speech"),
        ("b.wav", 5.0, 6.0, "Dog"),
    ]
    assert labels.for_clip("b.wav")["event_label"].tolist() == ["Speech", "Dog"]
    assert labels.for_clip("quiet.wav").empty and labels.for_clip("quiet.wav").columns.tolist() == events.columns.tolist()
    with pytest.raises(KeyError, match="missing.wav"):
        labels.for_clip("missing.wav")


def test_header_only_is_an_empty_set(tmp_path):
    labels = read_strong_tsv(write(tmp_path, STRONG_HEADER))
    assert labels.filenames == () and labels.events.empty


def test_same_class_overlaps_and_touches_are_merged_with_a_warning(tmp_path):
    body = (
        "a.wav\t0.0\t2.0\tDog\n"
        "a.wav\t1.0\t3.0\tDog\n"  # overlaps the first
        "a.wav\t3.0\t4.0\tDog\n"  # touches the merged one
        "a.wav\t0.5\t1.5\tCat\n"  # other class: kept
        "a.wav\t5.0\t6.0\tDog\n"  # gap: kept
        "b.wav\t0.0\t9.0\tSpeech\n"
        "b.wav\t2.0\t3.0\tSpeech\n"  # inside the first
    )
    path = write(tmp_path, STRONG_HEADER + body)
    with pytest.warns(UserWarning) as record:
        labels = read_strong_tsv(path)
    message = str(record[0].message)
    assert str(path) in message and "merged 3 same-class" in message and "in 2 clip(s)" in message
    assert "'a.wav' (lines 2, 3, 4)" in message and "'b.wav' (lines 7, 8)" in message
    assert list(labels.events.itertuples(index=False, name=None)) == [
        ("a.wav", 0.0, 4.0, "Dog"),
        ("a.wav", 0.5, 1.5, "Cat"),
        ("a.wav", 5.0, 6.0, "Dog"),
        ("b.wav", 0.0, 9.0, "Speech"),
    ]


# --------------------------------------------------------------------------- weak, unlabeled, durations


def test_weak_labels_in_class_order(tmp_path):
    path = write(tmp_path, "filename\tevent_labels\na.wav\tSpeech,Dog\nb.wav\t\nc.wav\tCat\n")
    weak = read_weak_tsv(path)
    assert weak.columns.tolist() == ["filename", "event_labels"]
    assert weak["filename"].tolist() == ["a.wav", "b.wav", "c.wav"]
    assert weak["event_labels"].tolist() == [("Dog", "Speech"), (), ("Cat",)]


@pytest.mark.parametrize(
    "body, line_no, fragments",
    [
        ("a.wav\tDog\nb.wav\tCat\na.wav\tCat\n", 4, ["duplicate clip (first on line 2)"]),
        ("a.wav\tDog,Speach\n", 2, ["unknown label 'Speach'", "did you mean 'Speech'?"]),
        ("a.wav\tDog, Cat\n", 2, ["unknown label ' Cat'", "did you mean 'Cat'?"]),
        ("a.wav\tDog,,Cat\n", 2, ["empty label in event_labels 'Dog,,Cat'"]),
        ("a.wav\tDog,\n", 2, ["empty label"]),
        ("a.wav\tDog\tCat\n", 2, ["expected 2 tab-separated field(s)", "found 3"]),
    ],
)
def test_weak_bad_rows(tmp_path, body, line_no, fragments):
    path = write(tmp_path, "filename\tevent_labels\n" + body)
    with pytest.raises(TsvFormatError) as error:
        read_weak_tsv(path)
    assert_error(error, path, line_no, *fragments)


def test_weak_bad_header(tmp_path):
    path = write(tmp_path, "filename,event_labels\na.wav,Dog\n")
    with pytest.raises(TsvFormatError) as error:
        read_weak_tsv(path)
    assert_error(error, path, 1, "looks comma-separated")
    path = write(tmp_path, STRONG_HEADER + "a.wav\t0\t1\tDog\n")
    with pytest.raises(TsvFormatError) as error:
        read_weak_tsv(path)
    assert_error(error, path, 1, "missing column(s) ['event_labels']", "(this is a strong-label file)")


def test_weak_repeated_label_is_kept_once_with_a_warning(tmp_path):
    path = write(tmp_path, "filename\tevent_labels\na.wav\tDog\nb.wav\tCat,Dog,Cat\n")
    with pytest.warns(UserWarning, match=re.escape(f"{path}: label repeated within a row on line(s) 3")):
        weak = read_weak_tsv(path)
    assert weak["event_labels"].tolist() == [("Dog",), ("Cat", "Dog")]


def test_unlabeled(tmp_path):
    path = write(tmp_path, "filename\nb.wav\na.wav\n\n")
    assert read_unlabeled_tsv(path) == ["b.wav", "a.wav"]
    path = write(tmp_path, "filename\nb.wav\na.wav\nb.wav\n")
    with pytest.raises(TsvFormatError) as error:
        read_unlabeled_tsv(path)
    assert_error(error, path, 4, "duplicate clip (first on line 2)")
    path = write(tmp_path, "filename\nb.wav\t3.0\n")
    with pytest.raises(TsvFormatError) as error:
        read_unlabeled_tsv(path)
    assert_error(error, path, 2, "expected 1 tab-separated field(s) 'filename', found 2")


def test_durations(tmp_path):
    path = write(tmp_path, "filename\tduration\nb.wav\t10.0\na.wav\t7.25\n")
    assert read_durations_tsv(path) == {"b.wav": 10.0, "a.wav": 7.25}
    repeated = write(tmp_path, "filename\tduration\nb.wav\t10.0\na.wav\t7.25\nb.wav\t10.0\n")  # as psds_eval's fixtures
    assert read_durations_tsv(repeated) == {"b.wav": 10.0, "a.wav": 7.25}
    for body, line_no, fragment in [
        ("a.wav\t0\n", 2, "duration 0 is not positive"),
        ("a.wav\t10\nb.wav\t-1\n", 3, "duration -1 is not positive"),
        ("a.wav\tten\n", 2, "duration 'ten' is not a finite number"),
        ("a.wav\t10\na.wav\t9\n", 3, "duplicate clip (first on line 2)"),
    ]:
        path = write(tmp_path, "filename\tduration\n" + body)
        with pytest.raises(TsvFormatError) as error:
            read_durations_tsv(path)
        assert_error(error, path, line_no, fragment)


# --------------------------------------------------------------------------- the real DESED files


def test_real_validation(desed_metadata):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overlap to merge in the real file
        labels = read_strong_tsv(desed_metadata / "validation.tsv")
    assert len(labels.filenames) == 1168
    assert len(labels.events) == 4239 - 15
    assert sum(labels.for_clip(name).empty for name in labels.filenames) == 15
    assert set(labels.events["event_label"]) == set(DESED_CLASSES)
    assert (labels.events["offset"] > labels.events["onset"]).all()


def test_real_validation_has_events_past_10_s(desed_metadata):
    """Real quirk: 4 events end 3 to 115 ms after 10 s; strict 10 s durations reject the first, 0.2 s of tolerance accepts them."""
    path = desed_metadata / "validation.tsv"
    names = read_strong_tsv(path).filenames
    ten_seconds = dict.fromkeys(names, 10.0)
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path, durations=ten_seconds)
    assert_error(error, path, 794, "event Dog ends at 10.115 s, past the clip's duration 10.000 s", "(4 lines with this problem")
    assert len(read_strong_tsv(path, durations=ten_seconds, duration_tolerance_s=0.2).events) == 4224


def test_real_public_eval(desed_metadata):
    labels = read_strong_tsv(desed_metadata / "public_eval.tsv")
    assert len(labels.filenames) == 692 and len(labels.events) == 2765


def test_real_weak(desed_metadata):
    path = desed_metadata / "weak.tsv"
    with pytest.warns(UserWarning, match=r"label repeated within a row on line\(s\) 681, 1050, 1505"):
        weak = read_weak_tsv(path)
    assert len(weak) == 1578 and weak["filename"].is_unique
    assert weak["event_labels"].iloc[0] == ("Alarm_bell_ringing", "Speech")
    assert weak["event_labels"].iloc[1503] == ("Dishes", "Running_water")  # line 1505: "Dishes,Running_water,Running_water"
    assert all(len(tags) > 0 for tags in weak["event_labels"])


def test_real_unlabeled(desed_metadata):
    names = read_unlabeled_tsv(desed_metadata / "unlabel_in_domain.tsv")
    assert len(names) == 14412 == len(set(names))
    assert names[0] == "Y--CE2f-ttEQ_30.000_40.000.wav"


def test_the_earliest_problem_is_reported_first(tmp_path):
    path = write(tmp_path, STRONG_HEADER + "a.wav\t0.0\t1.0\tDogs\nb.wav\t2\t1\tCat\n\t0\t1\tCat\n")
    with pytest.raises(TsvFormatError) as error:
        read_strong_tsv(path)
    assert_error(error, path, 2, "unknown event_label 'Dogs'")
