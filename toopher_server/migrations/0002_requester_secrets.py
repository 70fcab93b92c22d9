# Requester secrets encrypted at rest (toopher_server.keys, toopher_server.secretbox):
# the clear `secret` column becomes `secret_sealed`, and a rotation keeps the previous
# secret (sealed) until `previous_secret_expires`. Rows that exist are sealed with the
# key ring in force when this migration runs (set TOOPHER_SECRET_KEYS first).

from django.db import migrations, models

from toopher_server.keys import secret_box
from toopher_server.secretbox import row_aad

KIND = "requester_secret"


def seal(apps, schema_editor):
    Requester = apps.get_model("toopher_server", "Requester")
    rows = Requester.objects.using(schema_editor.connection.alias)
    box = None
    for requester in rows.all():
        box = box or secret_box()
        requester.secret_sealed = box.encrypt(requester.secret, row_aad(KIND, requester.id))
        requester.save(update_fields=["secret_sealed"])


def unseal(apps, schema_editor):
    Requester = apps.get_model("toopher_server", "Requester")
    rows = Requester.objects.using(schema_editor.connection.alias)
    box = None
    for requester in rows.all():
        box = box or secret_box()
        requester.secret = box.decrypt_text(requester.secret_sealed, row_aad(KIND, requester.id))
        requester.save(update_fields=["secret"])


class Migration(migrations.Migration):

    dependencies = [
        ("toopher_server", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="requester",
            name="secret_sealed",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="requester",
            name="previous_secret_sealed",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="requester",
            name="previous_secret_expires",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal, unseal),
        migrations.RemoveField(
            model_name="requester",
            name="secret",
        ),
    ]
