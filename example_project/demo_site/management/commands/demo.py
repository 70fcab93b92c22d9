"""``manage.py demo``: set up and serve the example site in one step (``make demo``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo_site.sandbox import ensure_sandbox_requester, migrate_all

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "toopher-demo"
DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = (
        "Migrate (the site's and the sandbox's databases), create the user demo / "
        "toopher-demo, make sure the sandbox requester exists, print where everything "
        "is, then serve the site (threaded)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=settings.PORT, help="Port to serve on (default: $PORT)."
        )
        parser.add_argument("--addr", default="127.0.0.1", help="Address (default 127.0.0.1).")
        parser.add_argument("--no-serve", action="store_true", help="Set everything up, then exit.")

    def handle(self, *args: Any, port: int, addr: str, no_serve: bool, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}.")
        if settings.USE_SANDBOX and port != settings.PORT:
            # The site calls its own sandbox: the API URL must carry the port we serve on.
            settings.TOOPHER["API_URL"] = f"http://127.0.0.1:{port}/sandbox/v1"

        migrate_all()  # the site's database and the sandbox's own
        self._ensure_demo_user()
        ensure_sandbox_requester()
        self._print_directions(addr, port)
        if no_serve:
            return
        # runserver is threaded: the site can answer its own sandbox calls while serving.
        call_command("runserver", f"{addr}:{port}", use_reloader=False, use_threading=True)

    def _ensure_demo_user(self) -> None:
        """Create ``demo`` (staff and superuser, so the admin can be shown); idempotent."""
        users = get_user_model()._default_manager
        user, created = users.get_or_create(username=DEMO_USERNAME, defaults={"email": DEMO_EMAIL})
        changed = created
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            changed = True
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed = True
        if changed:
            user.save()

    def _print_directions(self, addr: str, port: int) -> None:
        host = "127.0.0.1" if addr in ("0.0.0.0", "::") else addr  # noqa: S104
        base = f"http://{host}:{port}"
        lines = [
            "",
            "django-toopher example site",
            f"  Site:            {base}/",
            f"  Log in as:       {DEMO_USERNAME} / {DEMO_PASSWORD}",
            f"  Security:        {base}/toopher/security/",
            f"  Admin:           {base}/admin/",
        ]
        if settings.USE_SANDBOX:
            lines += [
                f"  Phone simulator: {base}/sandbox/phone/ (a quick look: plays the phone)",
                f"  Authenticator:   {base}/sandbox/app/ (the real app: open it in a second",
                "                   browser window, set it up, pair it with its phrase)",
                f"  Toopher API:     {settings.TOOPHER['API_URL']} (the mounted sandbox)",
                f"  Control API:     {base}/sandbox/control/ "
                f"(header X-Sandbox-Token: {settings.TOOPHER_SANDBOX_CONTROL_TOKEN})",
            ]
        else:
            lines.append(f"  Toopher API:     {settings.TOOPHER['API_URL']}")
        lines += ["", "Press CONTROL-C to stop.", ""]
        self.stdout.write("\n".join(lines))
