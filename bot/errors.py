"""Every error ShopMax Assistant raises on purpose, in one place.

    ShopMaxError                    base: catch this to catch ours and nothing else
    ├── SettingsError               a setting is missing or malformed; start-up stops with one line
    ├── CatalogError                the catalog file cannot be used; lists each bad row and field
    ├── KnowledgeError              a knowledge folder cannot be imported; names each bad file
    ├── CannotStart                 something the bot needs from its machine is not there
    │   ├── CannotListen            the HTTP port is taken (or the address is not this machine's)
    │   └── CannotOpenStore         the database cannot be reached, entered or prepared
    ├── ModelError                  the model could not give (all of) an answer
    │   ├── ModelUnavailable        failed before the first token (after the SDK's own retries)
    │   └── ModelInterrupted        failed after text had started to arrive; the partial text stands
    ├── SlackError                  a Slack call failed; the subclasses say whether to try again
    │   ├── SlackUnavailable        transient (5xx, timeout, no connection): wait, then try again
    │   ├── SlackRefused            Slack refuses the bot itself (token revoked, app uninstalled)
    │   ├── CannotPost              the bot may not post in that conversation (not a member, ...)
    │   └── MessageGone             the message we were editing was deleted
    ├── RateLimited                 Slack answered 429: wait `retry_after` seconds, then send again
    └── StoreUnavailable            the database cannot be read right now: use another source

Each error's message says what happened in words an operator can act on; the user-facing
wording for each lives in `bot.wording.texts`, never here.
"""

from __future__ import annotations


class ShopMaxError(Exception):
    """Base class for the errors this package raises deliberately."""


class SettingsError(ShopMaxError):
    """A setting is missing or malformed. The message names the setting and what to do."""


class CatalogError(ShopMaxError):
    """The catalog file cannot be used. `problems` names each bad row and field."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.args[0], *(f"  - {p}" for p in self.problems)])


class KnowledgeError(ShopMaxError):
    """A knowledge folder cannot be imported (nothing of it is). `problems` names each bad
    file and field."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]

    def __str__(self) -> str:
        if self.problems == [self.args[0]]:
            return str(self.args[0])
        return "\n".join([self.args[0], *(f"  - {p}" for p in self.problems)])


class CannotStart(ShopMaxError):
    """Start-up cannot go on; the message says what could not be had and why, in one line that
    never holds a password."""


class CannotListen(CannotStart):
    """The HTTP server cannot listen on its address: the port is taken, or not ours to use."""


class CannotOpenStore(CannotStart):
    """The store's database cannot be reached, entered (a wrong role or password) or prepared
    (a missing directory, a file that is not a database, no right to create tables)."""


class ModelError(ShopMaxError):
    """The model could not produce an answer, or all of it."""

    def __init__(self, message: str, *, kind: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.request_id = request_id


class ModelUnavailable(ModelError):
    """The model failed before sending any text: overloaded, rate-limited, unreachable, refused."""


class ModelInterrupted(ModelError):
    """The model stream broke after text had arrived (an `error` event or a dropped connection)."""


class SlackError(ShopMaxError):
    """A Slack call failed. Only `SlackUnavailable` is worth trying again; every other kind is
    permanent for that call (retrying the same call will not fix it)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class SlackUnavailable(SlackError):
    """Slack could not be reached or answered 5xx, after the SDK's own short retries: an
    incident that passes. Wait `retry_after` seconds (longer on each attempt) and send the
    newest state again.

    `may_have_landed` is true when the request may have reached Slack although no answer came
    back (a dropped connection, a timeout, a 5xx). A post is not idempotent: before posting
    again, look for it (`SlackApi.find_reply`), so that nothing is doubled.
    """

    def __init__(
        self, message: str, *, code: str, retry_after: float, may_have_landed: bool
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.may_have_landed = may_have_landed


class SlackRefused(SlackError):
    """Slack refuses the bot itself (`invalid_auth`, `token_revoked`, `account_inactive`, ...):
    nothing can be posted anywhere until the token or the app's installation is fixed."""


class CannotPost(SlackError):
    """The bot cannot post in this conversation (`not_in_channel`, `channel_not_found`, ...)."""


class MessageGone(SlackError):
    """The message being edited no longer exists (`message_not_found`): someone deleted it."""


class RateLimited(ShopMaxError):
    """Slack answered 429 (or `ratelimited`). The scheduler pauses the workspace's calls of that
    method for `retry_after` seconds and sends the message's newest state afterwards."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class StoreUnavailable(ShopMaxError):
    """The database cannot be reached (or its answer did not come in time) and what was asked
    cannot be answered without it. Writes never raise this: they are kept and written later.
    Callers read elsewhere (a thread's history from Slack) or go on without."""
