"""The shipped translations: the pending page, the security page and an admin action's
message in each language, chosen by LANGUAGE_CODE and by the Accept-Language header
(LocaleMiddleware); and the catalogues are complete (what makemessages finds is all
translated, nothing fuzzy, the compiled .mo files match their .po files)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

import django_toopher
import toopher_sandbox
import toopher_server
from tests.django_toopher.enroll_support import login, make_user
from tests.django_toopher.helpers import start_login, template_name

#: Django language code -> the locale directory name.
LANGUAGES = {"de": "de", "fr": "fr", "es": "es", "pt-br": "pt_BR", "ja": "ja"}
APPS = tuple(Path(app.__file__).parent for app in (django_toopher, toopher_server, toopher_sandbox))

#: What each page says in each language (written here, not read from the catalogues).
PENDING = {
    "de": "Bestätigen Sie die Anmeldung auf Ihrem Telefon",
    "fr": "Approuvez la connexion sur votre téléphone",
    "es": "Apruebe el inicio de sesión en su teléfono",
    "pt-br": "Aprove o login no seu celular",
    "ja": "電話でログインを承認してください",
}
SECURITY = {
    "de": ("Bestätigung per Telefon (Toopher)", "Sie haben 0 Browser benannt."),
    # French and Brazilian Portuguese count 0 as singular.
    "fr": ("Approbation par téléphone (Toopher)", "Vous avez nommé 0 navigateur."),
    "es": ("Aprobación por teléfono (Toopher)", "Ha puesto nombre a 0 navegadores."),
    "pt-br": ("Aprovação pelo celular (Toopher)", "Você nomeou 0 navegador."),
    "ja": ("電話による承認（Toopher）", "0 個のブラウザに名前を付けています。"),
}
DISABLED = {
    "de": "Benutzer alice: Toopher deaktiviert.",
    "fr": "Utilisateur alice\u00a0: Toopher désactivé.",
    "es": "Usuario alice: Toopher desactivado.",
    "pt-br": "Usuário alice: Toopher desativado.",
    "ja": "ユーザー alice: Toopher を無効にしました。",
}
HOW = ["language_code", "accept_language"]


def client_for(language: str, how: str) -> tuple[Client, Any]:
    """A client asking for ``language``, and the settings override (if any) to enter."""
    if how == "language_code":
        return Client(), override_settings(LANGUAGE_CODE=language)
    return Client(HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5"), override_settings()


@pytest.mark.django_db
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pending_page_is_translated(
    language, how, toopher_paired_user, toopher_sandbox, toopher_phone
):
    client, override = client_for(language, how)
    with override:
        response = start_login(client, toopher_paired_user)
    assert template_name(response) == "django_toopher/pending.html"
    html = response.content.decode()
    assert PENDING[language] in html
    assert f'<html lang="{language}">' in html
    assert "Approve the login on your phone" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_security_page_is_translated(language, how, toopher_settings):
    client, override = client_for(language, how)
    login(client, make_user("carol"))
    with override:
        response = client.get(reverse("django_toopher:security"))
    assert response.status_code == 200
    html = response.content.decode()
    heading, count = SECURITY[language]
    assert heading in html and count in html
    assert "Phone approval (Toopher)" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_admin_action_message_is_translated(language, how, toopher_settings):
    alice = make_user("alice")
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client, override = client_for(language, how)
    client.force_login(root)
    with override:
        response = client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "toopher_disable", "_selected_action": [alice.pk], "post": "yes"},
            follow=True,
        )
    texts = [str(m) for m in response.context["messages"]]
    assert any(DISABLED[language] in text for text in texts), texts


def test_english_stays_the_default():
    response = Client().get("/accounts/login/")
    assert response.headers.get("Content-Language") == "en"


# -- the catalogues -------------------------------------------------------------------------------

ENTRY = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def read_po(path: Path) -> dict[str, dict[str, Any]]:
    """``{msgid: {"fuzzy": bool, "msgstr": [forms]}}`` of a .po file (header left out)."""
    entries: dict[str, dict[str, Any]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
            elif match := ENTRY.match(line):
                key = match.group(1)
                fields[key] = match.group(2)
        if fields.get("msgid"):
            forms = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries[fields["msgid"]] = {"fuzzy": fuzzy, "msgstr": forms}
    return entries


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each app copied to a temporary directory, with makemessages run there (which
    merges what the sources mark today into the shipped catalogues)."""
    if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (msgfmt, xgettext) is needed: apt-get install gettext")
    out = {}
    for app in APPS:
        copy = tmp_path_factory.mktemp("catalogues") / app.name
        shutil.copytree(app, copy, ignore=shutil.ignore_patterns("__pycache__"))
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(copy)
            call_command("makemessages", locale=list(LANGUAGES.values()), no_obsolete=True,
                         add_location="file", verbosity=0)
            call_command("makemessages", locale=["de"], domain="djangojs", verbosity=0)
        out[app.name] = copy
    return out


@pytest.mark.slow
@pytest.mark.parametrize("locale", LANGUAGES.values())
@pytest.mark.parametrize("app", [app.name for app in APPS])
def test_the_catalogue_is_complete(app, locale, regenerated):
    shipped = read_po(Path(app_dir(app)) / "locale" / locale / "LC_MESSAGES" / "django.po")
    fresh = read_po(regenerated[app] / "locale" / locale / "LC_MESSAGES" / "django.po")
    missing = sorted(set(fresh) - set(shipped))
    assert not missing, f"marked in the sources but not in the shipped catalogue: {missing}"
    stale = sorted(set(shipped) - set(fresh))
    assert not stale, f"in the shipped catalogue but no longer in the sources: {stale}"
    fuzzy = sorted(msgid for msgid, e in fresh.items() if e["fuzzy"])
    assert not fuzzy, f"fuzzy: {fuzzy}"
    empty = sorted(msgid for msgid, e in fresh.items() if not all(e["msgstr"]))
    assert not empty, f"untranslated: {empty}"
    assert len(shipped) > 15  # not a vacuous pass on an empty catalogue


@pytest.mark.slow
@pytest.mark.parametrize("app", [app.name for app in APPS])
def test_no_javascript_catalogue_is_needed(app, regenerated):
    """The scripts take their words from the templates (data attributes), so the
    ``djangojs`` domain has nothing to translate."""
    assert not (regenerated[app] / "locale" / "de" / "LC_MESSAGES" / "djangojs.po").exists()


@pytest.mark.parametrize("locale", LANGUAGES.values())
@pytest.mark.parametrize("app", [app.name for app in APPS])
def test_the_compiled_catalogue_matches_its_source(app, locale, tmp_path):
    """The committed .mo says what the .po says (nobody forgot compilemessages)."""
    messages = Path(app_dir(app)) / "locale" / locale / "LC_MESSAGES"
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext (msgfmt) is needed: apt-get install gettext")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(messages / "django.po")],
                   check=True)
    with open(messages / "django.mo", "rb") as shipped, open(fresh, "rb") as compiled:
        assert gettext.GNUTranslations(shipped)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        )


def app_dir(name: str) -> Path:
    return next(app for app in APPS if app.name == name)
