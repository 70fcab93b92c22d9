# Reset links keep only the SHA-256 of their token: existing links are CONVERTED (each
# token is hashed in place, so links already sent keep working), then the clear column is
# dropped. The service's message table is dropped: the service keeps no message (mail is
# sent, never stored); the sandbox's outbox is its own table now (toopher_sandbox 0004),
# and the messages stored so far are not carried over. Pairing phrases get an index on
# their creation time (expired ones are deleted by it).

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    ResetLink = apps.get_model("toopher_server", "ResetLink")
    links = ResetLink.objects.using(schema_editor.connection.alias)
    for link in links.only("pk", "token").iterator():
        digest = hashlib.sha256(link.token.encode("utf-8")).hexdigest()
        links.filter(pk=link.pk).update(token_hash=digest)


class Migration(migrations.Migration):

    dependencies = [
        ("toopher_server", "0005_devices_per_phone"),
    ]

    operations = [
        migrations.AddField(
            model_name="resetlink",
            name="token_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        # Not reversible: the clear tokens are gone once hashed.
        migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="resetlink", name="token"),
        migrations.AlterField(
            model_name="resetlink",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.DeleteModel(name="Message"),
        migrations.AddIndex(
            model_name="pairingphrase",
            index=models.Index(fields=["created"], name="server_phrase_created"),
        ),
    ]
