# Web Push (toopher_server.push): the VAPID key, subscriptions, holds, push_state.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('toopher_server', '0006_hardening'),
    ]

    operations = [
        migrations.CreateModel(
            name='PushHold',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='toopher_server.user')),
                ('until', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='PushSubscription',
            fields=[
                ('device', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='push_subscription', serialize=False, to='toopher_server.device')),
                ('endpoint', models.CharField(max_length=2048)),
                ('p256dh', models.CharField(max_length=100)),
                ('auth', models.CharField(max_length=32)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('modified', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='VapidKey',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ('private_key_sealed', models.TextField(editable=False)),
                ('public_key', models.CharField(editable=False, max_length=100)),
                ('created', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'VAPID key',
            },
        ),
        migrations.AddField(
            model_name='authenticationrequest',
            name='push_state',
            field=models.CharField(choices=[('none', 'none'), ('queued', 'queued'), ('sent', 'sent'), ('failed', 'failed'), ('held', 'held')], default='none', max_length=8),
        ),
        migrations.AddField(
            model_name='authenticationrequest',
            name='push_state_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
