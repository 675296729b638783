"""Languages: the applicant-facing pages, their e-mails and the calls' public pages in
English and Spanish (Flask-Babel).

Whose language a page is in:
1. staff pages (``/manage``, ``/reviews``, ``/admin``, ``/organisations``, ``/audit``) are
   in English only for now, whatever the viewer chose, so a page never mixes two languages;
2. the language a logged-in person chose (kept on their account, so it follows them to
   another browser and into their e-mails);
3. the language chosen on this browser before logging in (the session);
4. the browser's Accept-Language, among the languages offered;
5. English.

Spanish is ``es_US``: the funder and most applicants are in the United States, so dates read
"2 de diciembre de 2026" while amounts keep the US separators ("$70,000.50"), which the
money fields parse the same way in both languages.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import has_request_context, request, session
from flask_babel import force_locale, get_locale
from flask_login import current_user

# Language code → (the locale it formats with, its name in its own language).
LANGUAGES: dict[str, tuple[str, str]] = {"en": ("en_US", "English"), "es": ("es_US", "Español")}
DEFAULT_LANGUAGE = "en"
SESSION_KEY = "language"
STAFF_PREFIXES = ("/manage", "/reviews", "/admin", "/organisations", "/audit")


def is_staff_page(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PREFIXES)


def chosen_language() -> str:
    """The language this request's viewer chose or their browser asks for (rules 2–5)."""
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    if session.get(SESSION_KEY) in LANGUAGES:
        return session[SESSION_KEY]
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def remember_browser_language(user) -> None:
    """At login: a language chosen on this browser before, by someone who never chose one,
    becomes their account's, so the session's reset at login does not switch it back."""
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES and user.language is None:
        user.language = chosen


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context():
        return LANGUAGES[DEFAULT_LANGUAGE][0]
    if is_staff_page(request.path):
        return LANGUAGES[DEFAULT_LANGUAGE][0]
    return LANGUAGES[chosen_language()][0]


def current_language() -> str:
    """``en`` or ``es``: the language of what is being rendered now."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def language_of(user) -> str:
    """The language a person reads their e-mails in."""
    language = getattr(user, "language", None)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def in_language_of(user):
    """Render (an e-mail) in ``user``'s language, whoever's request it is."""
    with force_locale(LANGUAGES[language_of(user)][0]):
        yield
