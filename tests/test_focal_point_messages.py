"""What a ministry focal point reads from `emp check`, in French and Arabic: the kind of problem
named right, the closest labels suggested, no internal ids, regular expressions or English, the
locale's numbers, one message per root cause, an encoding named as one, a file checked whatever
its name, and `--help` in the reader's language."""

from __future__ import annotations

import re

import pytest

from pipelines.cli import main
from sources.samples import NATIONAL_DATA_DIR

CONSULAR = NATIONAL_DATA_DIR / "MAR_MAE" / "immatriculations_consulaires_2019.csv"
NAME = "immatriculations_consulaires_2019.csv"
#: what must never reach a focal point: spec internals, series codes, regular expressions
INTERNALS = re.compile(r"counterpart_area|obs_value|MAR_[A-Z_]+|\(\?P<|\\d|spec's code list")
ENGLISH = ("is not", "is negative", "parts add up", "breaks the rule", "missing columns", "row ")
WORDS = {
    "fr": {
        "country": "'Belgiqe' n'est pas un pays que cette colonne connaît ; vouliez-vous dire "
        "Belgique",
        "encoding": "le fichier est enregistré dans l'encodage utf-8, mais ce jeu de données "
        "est lu en latin-1",
        "rule": "les lignes de chaque 'Pays de résidence', 'Sexe' s'additionnent",
        "resembles": "il ressemble à Marocains immatriculés dans les consulats",
        "period": "le nom du fichier ne donne pas la période : nommez le fichier comme "
        "immatriculations_consulaires_2024.csv",
        "help": ("utilisation : emp", "afficher cette aide et quitter", "--period PERIOD"),
    },
    "ar": {
        "country": "'Belgiqe' ليس بلدًا يعرفه هذا العمود؛ هل تقصد Belgique",
        "encoding": "الملف محفوظ بالترميز utf-8، لكن مجموعة البيانات هذه تُقرأ بالترميز latin-1",
        "rule": "مجموع أسطر كل 'Pays de résidence', 'Sexe' يساوي سطر المجموع",
        "resembles": "يبدو أنه Marocains immatriculés dans les consulats",
        "period": "اسم الملف لا يعطي الفترة: سمِّ الملف مثل immatriculations_consulaires_2024.csv",
        "help": ("الاستعمال: emp", "عرض رسالة المساعدة هذه والخروج", "--period PERIOD"),
    },
}


def consular(tmp_path, edit=None, name=NAME, encoding="latin-1"):
    lines = CONSULAR.read_text(encoding="latin-1").splitlines()
    if edit:
        lines = [edit(line) for line in lines]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def check(capsys, language, *args) -> tuple[int, str]:
    code = main(["--lang", language, "check", *map(str, args)])
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


def clean(text: str) -> None:
    assert not INTERNALS.search(text), INTERNALS.search(text)
    assert not [w for w in ENGLISH if w in text], text


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_unknown_country_is_named_with_the_closest_and_one_cause_gives_one_message(
    tmp_path, capsys, language
):
    path = consular(tmp_path, lambda line: re.sub(r"^Belgique", "Belgiqe", line))
    code, text = check(capsys, language, path)
    assert code == 1 and WORDS[language]["country"] in text
    # two rows misspelt, two errors; the total rule waits for them instead of failing too
    assert text.count("Belgiqe") == 4  # each error names the label and shows the value
    assert WORDS[language]["rule"] not in text
    clean(text)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_broken_rule_is_said_in_the_files_words_with_the_locales_numbers(
    tmp_path, capsys, language
):
    path = consular(tmp_path, lambda line: line.replace("France;H;294 326", "France;H;1 294 326"))
    code, text = check(capsys, language, path)
    assert code == 1 and WORDS[language]["rule"] in text
    total = re.search(r"2[\s\u00a0\u202f,.]?058[\s\u00a0\u202f,.]?821", text)
    assert total and total.group() != "2058821", "the total is written the locale's way"
    assert "e+06" not in text
    clean(text)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_file_in_another_encoding_is_named_as_such(tmp_path, capsys, language):
    path = consular(tmp_path, encoding="utf-8")
    code, text = check(capsys, language, path)
    assert code == 1 and WORDS[language]["encoding"] in text
    assert "['" not in text and "Ã©" not in text
    clean(text)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_copy_is_pointed_to_its_dataset_and_checked_with_its_period(tmp_path, capsys, language):
    copy = consular(tmp_path, name="Copie de immatriculations_consulaires.csv")
    code, text = check(capsys, language, copy)
    assert code == 1 and WORDS[language]["resembles"] in text
    assert "publisher" not in text and "UN DESA" not in text
    code, text = check(capsys, language, copy, "--source", "mar_consular_registrations")
    assert code == 1 and WORDS[language]["period"] in text and "--period" in text
    assert "(?P<" not in text
    code, text = check(
        capsys, language, copy, "--source", "mar_consular_registrations", "--period", "2019"
    )
    assert code == 0


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_help_follows_the_language(capsys, language):
    with pytest.raises(SystemExit) as done:
        main(["--lang", language, "check", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for words in WORDS[language]["help"]:
        assert words in text
    assert "show this help message" not in text and "the file to check" not in text
