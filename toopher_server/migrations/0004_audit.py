# The audit trail (toopher_server.audit): append-only records and the chain's head.
# Numbered 0004 to leave 0002 and 0003 to work merged alongside; it needs only 0001.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('toopher_server', '0003_devices'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditHead',
            fields=[
                ('id', models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': 'audit chain head',
            },
        ),
        migrations.CreateModel(
            name='AuditRecord',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('seq', models.BigIntegerField(db_index=True)),
                ('time', models.DateTimeField()),
                ('event', models.CharField(max_length=40)),
                ('outcome', models.CharField(max_length=40)),
                ('requester', models.CharField(blank=True, db_index=True, max_length=64, null=True)),
                ('user', models.CharField(blank=True, db_index=True, max_length=64, null=True)),
                ('device', models.CharField(blank=True, max_length=64, null=True)),
                ('details', models.JSONField(blank=True, default=dict)),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': 'audit record',
                'ordering': ['id'],
            },
        ),
    ]
