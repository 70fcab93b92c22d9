# Number matching (toopher_server.numbers): the requester setting and a request's codes.
#
# Existing requesters keep number matching OFF: their sites were built before the
# verification code existed and do not show it, so turning it on would leave their users
# picking among three numbers with nothing to match. Operators turn it on in the admin
# once the site shows the code (django-toopher does from this version). Requesters made
# from now on have it ON (the field's default).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("toopher_server", "0007_push"),
    ]

    operations = [
        migrations.AddField(
            model_name="requester",
            name="number_matching",
            field=models.BooleanField(default=False),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="requester",
            name="number_matching",
            field=models.BooleanField(
                default=True,
                help_text="Each authentication request gets a two-digit code that the site "
                "shows and the user picks among three on the phone.",
            ),
        ),
        migrations.AddField(
            model_name="authenticationrequest",
            name="verification_code",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.AddField(
            model_name="authenticationrequest",
            name="offered_codes",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
    ]
