# The outbox: the SMS and emails of the service, kept by the sandbox instead of sent
# (the service's own message table is dropped by toopher_server's hardening migration;
# what it held is not carried over). It depends on the service's first migration only,
# which made the Requester table it refers to.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("toopher_sandbox", "0003_service_tables_moved"),
        ("toopher_server", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Message",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("sms", "SMS"), ("email", "email")], max_length=10)),
                ("to", models.CharField(max_length=320)),
                ("subject", models.CharField(blank=True, default="", max_length=200)),
                ("body", models.TextField()),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "requester",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="toopher_server.requester",
                    ),
                ),
            ],
            options={"ordering": ["-created"]},
        ),
    ]
